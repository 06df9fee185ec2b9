//! The checks that read what the sync knows of the connection: its SmartSuite webhook's last
//! check and last read, the links that wait for their record, and recent errors.

use suiteflow_store::{Connection, EventStatus, Store, WebhookStatus};
use time::OffsetDateTime;

use super::{Check, Status};
use crate::failure::Failure;

/// SmartSuite turns a webhook off after 7 days without a `ListEvents`.
const READ_WARNING: time::Duration = time::Duration::days(2);
const READ_FAILURE: time::Duration = time::Duration::days(6);

pub(super) async fn check_state(
    store: &Store,
    connection: &Connection,
    checks: &mut Vec<Check>,
) -> Result<(), Failure> {
    let mut db = store.get().await?;
    if connection.smartsuite_webhook_id.is_some() {
        let last_check = suiteflow_store::webhook_check(&mut db, connection.id).await?;
        checks.push(match last_check {
            None => Check::new(
                "webhook_health",
                Status::Skipped,
                "the worker has not checked the webhook yet",
            ),
            Some(c) => {
                let status = match c.status {
                    WebhookStatus::Ok => Status::Ok,
                    WebhookStatus::Failed => Status::Warning,
                    WebhookStatus::Disabled | WebhookStatus::Missing => Status::Failed,
                };
                let mut detail = format!(
                    "{} at {}: {}",
                    c.status,
                    timestamp(c.checked_at),
                    c.detail.unwrap_or_default()
                );
                if let Some(since) = c.unhealthy_since {
                    detail.push_str(&format!(" (not ok since {})", timestamp(since)));
                }
                Check::new("webhook_health", status, detail)
            }
        });
        checks.push(keep_alive(connection));
    }

    let waiting = suiteflow_store::count_pending_links(&mut db, connection.id).await?;
    checks.push(Check::new(
        "pending_links",
        Status::Ok,
        if waiting == 0 {
            "no link waits for its record's item".to_string()
        } else {
            format!(
                "{waiting} links wait for their record's item; each record is written again \
                 when its item is"
            )
        },
    ));

    let dead = suiteflow_store::queue::count_by_status_of(&mut db, connection.id, None)
        .await?
        .into_iter()
        .find(|(s, _)| *s == EventStatus::DeadLetter)
        .map_or(0, |(_, n)| n);
    let mut problems = Vec::new();
    if connection.consecutive_errors > 0 {
        problems.push(format!(
            "{} failures in a row, the last at {}: {}",
            connection.consecutive_errors,
            connection.last_error_at.map(timestamp).unwrap_or_default(),
            connection.last_error_message.clone().unwrap_or_default()
        ));
    }
    if dead > 0 {
        problems.push(format!(
            "{dead} dead-lettered events (`events list --status dead-letter`, then `events replay --dead-letter`)"
        ));
    }
    checks.push(if problems.is_empty() {
        let last = connection
            .last_success_at
            .map(|at| format!("; last success {}", timestamp(at)))
            .unwrap_or_default();
        Check::new("recent_errors", Status::Ok, format!("none{last}"))
    } else {
        let mut check = Check::new(
            "recent_errors",
            Status::Warning,
            format!("{} problems", problems.len()),
        );
        check.problems = problems;
        check
    });
    Ok(())
}

/// When the webhook was last read (`ListEvents`): SmartSuite turns it off after 7 days.
fn keep_alive(connection: &Connection) -> Check {
    let Some(at) = connection.smartsuite_webhook_kept_alive_at else {
        return Check::new(
            "webhook_keep_alive",
            Status::Warning,
            "the webhook was never read yet (the worker reads it within a day)",
        );
    };
    let age = OffsetDateTime::now_utc() - at;
    let status = if age > READ_FAILURE {
        Status::Failed
    } else if age > READ_WARNING {
        Status::Warning
    } else {
        Status::Ok
    };
    Check::new(
        "webhook_keep_alive",
        status,
        format!(
            "last read {} ({} hours ago); SmartSuite turns a webhook off after 7 days unread",
            timestamp(at),
            age.whole_hours()
        ),
    )
}

/// RFC 3339 text of a timestamp.
fn timestamp(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}
