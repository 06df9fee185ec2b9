//! The checks that call the APIs: the SmartSuite key opens the table and the webhook is
//! registered, the key's calls this month, and the Webflow token reads the site, the
//! collection and its items.

use suiteflow_mapper::schema::{smartsuite, webflow};
use suiteflow_webflow_client::ListItems;

use super::{Check, Status};
use crate::budget::QUOTA_WARNING;
use crate::connect::{Connector, Session};
use crate::failure::Failure;

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

/// SmartSuite: the key opens the table (there are no finer scopes), and the webhook is there.
pub(super) async fn check_smartsuite(
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
            table = crate::connect::table_schema(&t).ok();
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
pub(super) async fn smartsuite_month(
    connector: &Connector,
    session: &Session<'_>,
) -> Result<Check, Failure> {
    let calls = session.smartsuite.calls_this_month().await?;
    Ok(match connector.monthly_quota() {
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
pub(super) async fn check_webflow(
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
            collection = crate::connect::collection_schema(&c).ok();
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
