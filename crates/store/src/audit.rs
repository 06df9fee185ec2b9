//! The audit log and daily analytics.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use time::{Date, OffsetDateTime};

use crate::schema::{analytics_daily, audit_log};
use crate::{ConnectionId, StoreError};

/// A row of `audit_log`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = audit_log, check_for_backend(diesel::pg::Pg))]
pub struct AuditEntry {
    pub id: i64,
    pub created_at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub connection_id: Option<ConnectionId>,
    pub details: Value,
}

/// Appends an entry (`details` must not contain secrets); returns its id.
pub async fn audit(
    conn: &mut AsyncPgConnection,
    actor: &str,
    action: &str,
    connection_id: Option<ConnectionId>,
    details: &Value,
) -> Result<i64, StoreError> {
    Ok(diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor.eq(actor),
            audit_log::action.eq(action),
            audit_log::connection_id.eq(connection_id),
            audit_log::details.eq(details),
        ))
        .returning(audit_log::id)
        .get_result(conn)
        .await?)
}

/// The newest entry with `action`.
pub async fn latest_audit(
    conn: &mut AsyncPgConnection,
    action: &str,
) -> Result<Option<AuditEntry>, StoreError> {
    Ok(audit_log::table
        .filter(audit_log::action.eq(action))
        .order(audit_log::created_at.desc())
        .select(AuditEntry::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Deletes the audit entries older than `before` (retention), `batch` rows per statement so
/// that no statement is long; returns how many.
pub async fn purge_audit(
    conn: &mut AsyncPgConnection,
    before: OffsetDateTime,
    batch: u32,
) -> Result<usize, StoreError> {
    let batch = batch.max(1);
    let mut total = 0;
    loop {
        let deleted = diesel::sql_query(
            "DELETE FROM audit_log WHERE id IN ( \
                 SELECT id FROM audit_log WHERE created_at < $1 ORDER BY created_at LIMIT $2)",
        )
        .bind::<diesel::sql_types::Timestamptz, _>(before)
        .bind::<diesel::sql_types::Int8, _>(i64::from(batch))
        .execute(conn)
        .await?;
        total += deleted;
        if deleted < batch as usize {
            return Ok(total);
        }
    }
}

/// A row of `analytics_daily`: one connection's day. Record events are counted once each, on
/// the day they were received, in the outcome they have now, so
/// `events_received = succeeded + failed + dead_lettered + skipped` (`failed`: still waiting
/// for a retry). Pulls are counted apart. Webflow calls are counted on the day they are made.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = analytics_daily, check_for_backend(diesel::pg::Pg))]
pub struct DailyAnalytics {
    pub connection_id: ConnectionId,
    pub day: Date,
    pub events_received: i32,
    pub succeeded: i32,
    pub failed: i32,
    pub dead_lettered: i32,
    pub skipped: i32,
    /// Pull events (SmartSuite `ListEvents`), whatever their outcome.
    pub pulls: i32,
    pub webflow_calls: i32,
    /// Queued to written, summed over the `succeeded` events.
    pub total_duration_ms: i64,
}

/// Adds `calls` Webflow calls to the connection's counters for `day` (one upsert). The
/// event counters are not written from here: a trigger counts each event once, in the outcome
/// it has (migration `analytics_once`).
pub async fn add_webflow_calls(
    conn: &mut AsyncPgConnection,
    connection_id: ConnectionId,
    day: Date,
    calls: i32,
) -> Result<(), StoreError> {
    use analytics_daily::dsl as a;
    diesel::insert_into(analytics_daily::table)
        .values((
            a::connection_id.eq(connection_id),
            a::day.eq(day),
            a::webflow_calls.eq(calls),
        ))
        .on_conflict((a::connection_id, a::day))
        .do_update()
        .set(a::webflow_calls.eq(a::webflow_calls + calls))
        .execute(conn)
        .await?;
    Ok(())
}

/// A connection's daily counters from `from` to `to` (inclusive), oldest first.
pub async fn daily_analytics(
    conn: &mut AsyncPgConnection,
    connection_id: ConnectionId,
    from: Date,
    to: Date,
) -> Result<Vec<DailyAnalytics>, StoreError> {
    Ok(analytics_daily::table
        .filter(analytics_daily::connection_id.eq(connection_id))
        .filter(analytics_daily::day.between(from, to))
        .order(analytics_daily::day.asc())
        .select(DailyAnalytics::as_select())
        .load(conn)
        .await?)
}
