//! `suiteflow check <connection>`: credentials, access ("scopes"), the SmartSuite key's calls
//! this month, whether the mapping fits the live schemas (drift), the webhook's health and
//! last read, the links that wait, and recent errors. Reads only; exits 1 when a check fails.

mod apis;
mod state;

use serde::Serialize;
use serde_json::{Value, json};
use suiteflow_mapper::schema::{smartsuite, webflow};
use suiteflow_store::ConnectionStatus;

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
            table = apis::check_smartsuite(&session, &mut checks).await;
            checks.push(apis::smartsuite_month(ctx, &session).await?);
            collection = apis::check_webflow(&session, &mut checks).await;
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

    state::check_state(ctx, &connection, &mut checks).await?;

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
