//! `suiteflow check <connection>`: credentials, access ("scopes") and whether the mapping fits
//! the live schemas. Reads only; exits 1 when a check fails.

use serde::Serialize;
use serde_json::{Value, json};
use suiteflow_mapper::schema::{smartsuite, webflow};
use suiteflow_store::ConnectionStatus;
use suiteflow_sync::budget::QUOTA_WARNING;
use suiteflow_sync::{Failure, Session};
use suiteflow_webflow_client::ListItems;

use crate::CommandContext;
use crate::commands::mapping::stored_document;
use crate::error::{CliResult, failure};
use crate::output::print_json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Ok,
    Warning,
    Failed,
    Skipped,
}

#[derive(Debug, Serialize)]
struct Check {
    name: &'static str,
    status: Status,
    detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    problems: Vec<String>,
}

impl Check {
    fn new(name: &'static str, status: Status, detail: impl Into<String>) -> Self {
        Self {
            name,
            status,
            detail: detail.into(),
            problems: Vec::new(),
        }
    }
}

fn smartsuite_failure(f: &Failure, what: &str) -> String {
    use suiteflow_smartsuite_client::Error as E;
    match f.smartsuite() {
        Some(E::Unauthorized { .. }) => "the API key was rejected (401): set a new one".to_string(),
        Some(E::Forbidden { .. }) => format!("the API key's member has no access to {what} (403)"),
        Some(E::NotFound { .. }) => format!("{what} was not found (404): check the ids"),
        _ => f.to_string(),
    }
}

fn webflow_failure(f: &Failure, what: &str, scope: &str) -> String {
    use suiteflow_webflow_client::Error as E;
    match f.webflow() {
        Some(E::Unauthorized { .. }) => {
            "the token was rejected (401): it is wrong or expired".to_string()
        }
        Some(E::Forbidden { .. }) => {
            format!("the token cannot read {what} (403): it needs the {scope} scope")
        }
        Some(E::NotFound { .. }) => format!("{what} was not found (404): check the id"),
        _ => f.to_string(),
    }
}

pub async fn run(ctx: &CommandContext, reference: &str) -> CliResult {
    let connection = ctx.connection(reference).await?;
    let mut checks = Vec::new();

    checks.push(match connection.status {
        ConnectionStatus::Active => Check::new("connection_status", Status::Ok, "active"),
        status => Check::new(
            "connection_status",
            Status::Warning,
            format!("{status}: its events are not processed (`connection resume`)"),
        ),
    });

    let mut table: Option<smartsuite::Table> = None;
    let mut collection: Option<webflow::Collection> = None;
    match ctx.session(&connection) {
        Err(e) => checks.push(Check::new("credentials", Status::Failed, e.to_string())),
        Ok(session) => {
            table = check_smartsuite(&session, &mut checks).await;
            checks.push(smartsuite_month(ctx, &session).await?);
            collection = check_webflow(&session, &mut checks).await;
        }
    }

    // The mapping against the live schemas.
    let mut db = ctx.db().await?;
    let mapping = suiteflow_store::get_mapping(&mut db, connection.id)
        .await
        .map_err(|e| failure(format!("loading the mapping: {e}")))?;
    drop(db);
    checks.push(match (mapping, &table, &collection) {
        (None, _, _) => Check::new(
            "mapping",
            Status::Failed,
            "no mapping: nothing can be written (`mapping set`)",
        ),
        (Some(_), None, _) | (Some(_), _, None) => Check::new(
            "mapping",
            Status::Skipped,
            "the live schemas could not be read",
        ),
        (Some(mapping), Some(table), Some(collection)) => {
            let doc = stored_document(&mapping)?;
            match suiteflow_mapper::validate(&doc, table, collection) {
                Ok(compiled) => {
                    let unmapped: Vec<&str> = collection
                        .fields
                        .iter()
                        .filter(|f| f.is_editable && f.slug != "slug")
                        .map(|f| f.slug.as_str())
                        .filter(|slug| !compiled.targets().any(|t| t == *slug))
                        .collect();
                    let mut detail = format!(
                        "mapping version {} fits the live schemas ({} fields mapped)",
                        mapping.version,
                        doc.field_map.len()
                    );
                    if !unmapped.is_empty() {
                        detail.push_str(&format!("; not mapped: {}", unmapped.join(", ")));
                    }
                    Check::new("mapping", Status::Ok, detail)
                }
                Err(problems) => {
                    let mut check = Check::new(
                        "mapping",
                        Status::Failed,
                        format!(
                            "mapping version {} does not fit the live schemas ({} problems)",
                            mapping.version,
                            problems.len()
                        ),
                    );
                    check.problems = problems.iter().map(ToString::to_string).collect();
                    check
                }
            }
        }
    });

    let ok = !checks.iter().any(|c| c.status == Status::Failed);
    if ctx.json {
        print_json(&json!({
            "connectionId": connection.id,
            "ok": ok,
            "checks": serde_json::to_value(&checks).unwrap_or(Value::Null),
        }));
    } else {
        for check in &checks {
            let mark = match check.status {
                Status::Ok => "ok  ",
                Status::Warning => "warn",
                Status::Failed => "FAIL",
                Status::Skipped => "skip",
            };
            println!("[{mark}] {:<22} {}", check.name, check.detail);
            for problem in &check.problems {
                println!("         - {problem}");
            }
        }
    }
    if ok {
        Ok(())
    } else {
        let failed: Vec<&str> = checks
            .iter()
            .filter(|c| c.status == Status::Failed)
            .map(|c| c.name)
            .collect();
        Err(failure(format!("check failed: {}", failed.join(", "))))
    }
}

/// SmartSuite: the key opens the table (there are no finer scopes), and the webhook is there.
async fn check_smartsuite(
    session: &Session<'_>,
    checks: &mut Vec<Check>,
) -> Option<smartsuite::Table> {
    let (connection, client, budget) = (
        session.connection,
        &session.clients.smartsuite,
        &session.smartsuite,
    );
    let mut table = None;
    match budget
        .call("table", client.get_table(&connection.smartsuite_table_id))
        .await
    {
        Ok(t) => {
            checks.push(Check::new(
                "smartsuite_credentials",
                Status::Ok,
                format!(
                    "table {} ({:?}, {} fields) is readable",
                    t.id,
                    t.name.clone().unwrap_or_default(),
                    t.structure.len()
                ),
            ));
            table = suiteflow_sync::connect::table_schema(&t).ok();
        }
        Err(e) => checks.push(Check::new(
            "smartsuite_credentials",
            Status::Failed,
            smartsuite_failure(&e, "the table"),
        )),
    }
    let Some(webhook_id) = connection.smartsuite_webhook_id.as_deref() else {
        checks.push(Check::new(
            "smartsuite_webhook",
            Status::Skipped,
            "no SmartSuite webhook registered (`connection register-webhook`)",
        ));
        return table;
    };
    let listed = budget
        .call(
            "webhooks",
            client.list_webhooks(connection.smartsuite_solution_id.as_deref(), 100, ""),
        )
        .await;
    checks.push(match listed {
        Ok(page) => match page
            .webhooks
            .iter()
            .find(|w| w.webhook_id.as_deref() == Some(webhook_id))
        {
            Some(w) if w.notification_url().is_some() => Check::new(
                "smartsuite_webhook",
                Status::Ok,
                format!("webhook {webhook_id} is registered and notifying"),
            ),
            Some(_) => Check::new(
                "smartsuite_webhook",
                Status::Warning,
                format!("webhook {webhook_id} exists but its notifications are off"),
            ),
            None => Check::new(
                "smartsuite_webhook",
                Status::Failed,
                format!("webhook {webhook_id} is not in SmartSuite's list: register it again"),
            ),
        },
        Err(e) => Check::new(
            "smartsuite_webhook",
            Status::Failed,
            smartsuite_failure(&e, "webhooks"),
        ),
    });
    table
}

/// This month's SmartSuite calls of the connection's API key (every connection and replica
/// using the key counts into one number), against the plan's quota when it is known.
async fn smartsuite_month(ctx: &CommandContext, session: &Session<'_>) -> CliResult<Check> {
    let calls = session
        .smartsuite
        .calls_this_month()
        .await
        .map_err(|e| failure(format!("reading this month's SmartSuite calls: {e}")))?;
    Ok(match ctx.connector.monthly_quota() {
        None => Check::new(
            "smartsuite_quota",
            Status::Ok,
            format!(
                "{calls} SmartSuite calls this month with this API key \
                 (SMARTSUITE_MONTHLY_QUOTA is not set: no quota to compare with)"
            ),
        ),
        Some(quota) => {
            let used = calls as f64 / quota.max(1) as f64;
            let status = if used >= QUOTA_WARNING {
                Status::Warning
            } else {
                Status::Ok
            };
            Check::new(
                "smartsuite_quota",
                status,
                format!(
                    "{calls} of {quota} SmartSuite calls this month with this API key ({:.0}%)",
                    used * 100.0
                ),
            )
        }
    })
}

/// Webflow: the token reads the site (sites:read), the collection and its items (cms:read).
async fn check_webflow(
    session: &Session<'_>,
    checks: &mut Vec<Check>,
) -> Option<webflow::Collection> {
    let (connection, client, budget) = (
        session.connection,
        &session.clients.webflow,
        &session.webflow,
    );
    checks.push(
        match budget
            .call(client.get_site(&connection.webflow_site_id))
            .await
        {
            Ok(_) => Check::new(
                "webflow_site",
                Status::Ok,
                format!(
                    "site {} is readable (sites:read)",
                    connection.webflow_site_id
                ),
            ),
            Err(e) => Check::new(
                "webflow_site",
                Status::Failed,
                webflow_failure(&e, "the site", "sites:read"),
            ),
        },
    );
    let mut collection = None;
    match budget
        .call(client.get_collection(&connection.webflow_collection_id))
        .await
    {
        Ok(c) => {
            checks.push(Check::new(
                "webflow_collection",
                Status::Ok,
                format!(
                    "collection {} ({:?}, {} fields) is readable (cms:read)",
                    c.id,
                    c.display_name.clone().unwrap_or_default(),
                    c.fields.len()
                ),
            ));
            collection = suiteflow_sync::connect::collection_schema(&c).ok();
        }
        Err(e) => checks.push(Check::new(
            "webflow_collection",
            Status::Failed,
            webflow_failure(&e, "the collection", "cms:read"),
        )),
    }
    let query = ListItems {
        limit: Some(1),
        ..ListItems::default()
    };
    checks.push(
        match budget
            .call(client.list_items(&connection.webflow_collection_id, &query))
            .await
        {
            Ok(page) => Check::new(
                "webflow_items",
                Status::Ok,
                format!(
                    "items are readable ({} in the collection)",
                    page.pagination.total
                ),
            ),
            Err(e) => Check::new(
                "webflow_items",
                Status::Failed,
                webflow_failure(&e, "items", "cms:read"),
            ),
        },
    );
    checks.push(Check::new(
        "webflow_write",
        Status::Skipped,
        "cms:write cannot be checked without writing; the first synced record shows it",
    ));
    collection
}
