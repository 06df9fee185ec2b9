//! What maintenance found of each connection's SmartSuite webhook (`webhook_checks`): which
//! webhooks are due for a check, the last check's outcome, and the figures the worker exports.

use std::time::Duration;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::OffsetDateTime;

use crate::schema::{connections, webhook_checks};
use crate::{Connection, ConnectionId, ConnectionStatus, StoreError};

/// What a check of a webhook found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookStatus {
    /// Registered, notifications on.
    Ok,
    /// Registered, notifications off (SmartSuite turns them off after a day of failed pings).
    Disabled,
    /// Not in SmartSuite's list: deleted (SmartSuite deletes a webhook not read for 14 days).
    Missing,
    /// The check itself failed (SmartSuite unreachable, credentials refused).
    Failed,
}

impl WebhookStatus {
    pub const ALL: [Self; 4] = [Self::Ok, Self::Disabled, Self::Missing, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Disabled => "disabled",
            Self::Missing => "missing",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "ok" => Self::Ok,
            "disabled" => Self::Disabled,
            "missing" => Self::Missing,
            _ => Self::Failed,
        }
    }
}

impl std::fmt::Display for WebhookStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The last check of a connection's webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookCheck {
    pub webhook_id: String,
    pub status: WebhookStatus,
    /// What was found or done, for people (`notifications were off: turned back on`, …).
    pub detail: Option<String>,
    pub checked_at: OffsetDateTime,
    /// Since when the webhook has not been `ok` (`None` while it is).
    pub unhealthy_since: Option<OffsetDateTime>,
}

/// Records a check of the connection's webhook `webhook_id`.
pub async fn record_webhook_check(
    conn: &mut AsyncPgConnection,
    connection: ConnectionId,
    webhook_id: &str,
    status: WebhookStatus,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    use webhook_checks::dsl as w;
    let unhealthy_since =
        diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>>(
            "CASE WHEN excluded.status = 'ok' THEN NULL \
              ELSE coalesce(webhook_checks.unhealthy_since, excluded.checked_at) END",
        );
    let now = OffsetDateTime::now_utc();
    diesel::insert_into(webhook_checks::table)
        .values((
            w::connection_id.eq(connection),
            w::webhook_id.eq(webhook_id),
            w::status.eq(status.as_str()),
            w::detail.eq(detail),
            w::checked_at.eq(now),
            w::unhealthy_since.eq((status != WebhookStatus::Ok).then_some(now)),
        ))
        .on_conflict(w::connection_id)
        .do_update()
        .set((
            w::webhook_id.eq(diesel::upsert::excluded(w::webhook_id)),
            w::status.eq(diesel::upsert::excluded(w::status)),
            w::detail.eq(diesel::upsert::excluded(w::detail)),
            w::checked_at.eq(diesel::upsert::excluded(w::checked_at)),
            w::unhealthy_since.eq(unhealthy_since),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The last check of the connection's webhook, if any.
pub async fn webhook_check(
    conn: &mut AsyncPgConnection,
    connection: ConnectionId,
) -> Result<Option<WebhookCheck>, StoreError> {
    type Row = (
        String,
        String,
        Option<String>,
        OffsetDateTime,
        Option<OffsetDateTime>,
    );
    let row: Option<Row> = webhook_checks::table
        .find(connection)
        .select((
            webhook_checks::webhook_id,
            webhook_checks::status,
            webhook_checks::detail,
            webhook_checks::checked_at,
            webhook_checks::unhealthy_since,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(
        |(webhook_id, status, detail, checked_at, unhealthy_since)| WebhookCheck {
            webhook_id,
            status: WebhookStatus::parse(&status),
            detail,
            checked_at,
            unhealthy_since,
        },
    ))
}

/// Connections (not archived) with a SmartSuite webhook not checked since `before`, least
/// recently checked first, at most `limit`: each maintenance run checks a few, so the checks
/// spread over time.
pub async fn webhooks_due_for_check(
    conn: &mut AsyncPgConnection,
    before: OffsetDateTime,
    limit: i64,
) -> Result<Vec<Connection>, StoreError> {
    Ok(connections::table
        .left_join(webhook_checks::table)
        .filter(connections::smartsuite_webhook_id.is_not_null())
        .filter(connections::status.ne(ConnectionStatus::Archived))
        .filter(
            webhook_checks::checked_at
                .is_null()
                .or(webhook_checks::checked_at.lt(before))
                // A webhook replaced since its check is checked again.
                .or(webhook_checks::webhook_id
                    .nullable()
                    .ne(connections::smartsuite_webhook_id)),
        )
        .order(webhook_checks::checked_at.nullable().asc().nulls_first())
        .limit(limit)
        .select(Connection::as_select())
        .load(conn)
        .await?)
}

/// The webhooks of connections that are not archived, as the worker exports them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookHealth {
    /// Connections by their webhook's last check (unchecked ones are not counted).
    pub by_status: Vec<(WebhookStatus, i64)>,
    /// The longest time any webhook has gone without a `ListEvents` (keep-alive or pull).
    pub oldest_read: Option<Duration>,
}

/// The figures of [`WebhookHealth`].
pub async fn webhook_health(conn: &mut AsyncPgConnection) -> Result<WebhookHealth, StoreError> {
    let live = connections::table
        .filter(connections::smartsuite_webhook_id.is_not_null())
        .filter(connections::status.ne(ConnectionStatus::Archived));
    let statuses: Vec<String> = live
        .clone()
        .inner_join(webhook_checks::table)
        .filter(
            webhook_checks::webhook_id
                .nullable()
                .eq(connections::smartsuite_webhook_id),
        )
        .select(webhook_checks::status)
        .load(conn)
        .await?;
    let by_status = WebhookStatus::ALL
        .iter()
        .map(|s| {
            let n = statuses
                .iter()
                .filter(|t| WebhookStatus::parse(t) == *s)
                .count();
            (*s, i64::try_from(n).unwrap_or(i64::MAX))
        })
        .collect();
    // A webhook never read counts from when its connection was registered (created).
    let oldest: Option<OffsetDateTime> = live
        .select(diesel::dsl::min(diesel::dsl::sql::<
            diesel::sql_types::Timestamptz,
        >(
            "coalesce(smartsuite_webhook_kept_alive_at, created_at)",
        )))
        .first(conn)
        .await?;
    let oldest_read =
        oldest.map(|at| Duration::try_from(OffsetDateTime::now_utc() - at).unwrap_or_default());
    Ok(WebhookHealth {
        by_status,
        oldest_read,
    })
}
