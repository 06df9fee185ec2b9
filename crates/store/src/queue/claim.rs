//! Taking work: one `UPDATE … FOR UPDATE SKIP LOCKED` statement that leases a batch of due
//! events, never two of one record, and skips the superseded ones.

use std::time::Duration;

use diesel::sql_types::{Int8, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::{Event, IN_FLIGHT_INDEX, RACE_RETRIES, duration_ms, in_transaction};
use crate::error::is_retryable_race;
use crate::prepared::prepared;
use crate::{EventStatus, StoreError};

const CLAIM_SQL: &str = include_str!("claim.sql");

/// Claims up to `n` events for `worker` with a lease of `lease`: queued, failed-and-due, and
/// processing-with-expired-lease events of active connections; never two events of one record
/// in flight; superseded events become `skipped`. See [`claim_batch`], which also tells which
/// events were superseded.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    worker: &str,
    n: u32,
    lease: Duration,
) -> Result<Vec<Event>, StoreError> {
    Ok(claim_batch(conn, worker, n, lease).await?.events)
}

/// What a claim took, and what it finished on the way.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Claim {
    /// The events leased to the worker (`processing`).
    pub events: Vec<Event>,
    /// Events the claim found superseded by a newer event of their record: already `skipped`,
    /// with their reason in `error`; for the worker's log line and metric.
    pub superseded: Vec<Event>,
}

/// [`claim`], in one statement, telling also which events it skipped as superseded.
///
/// Runs as one statement, or in a savepoint when the caller has a transaction open, so that a
/// claim that loses a race to another claimer can be run again. When superseded events took up
/// part of the batch, the claim looks further (another statement) so that an empty answer
/// means nothing is claimable right now.
pub async fn claim_batch(
    conn: &mut AsyncPgConnection,
    worker: &str,
    n: u32,
    lease: Duration,
) -> Result<Claim, StoreError> {
    let mut claim = Claim::default();
    if n == 0 {
        return Ok(claim);
    }
    let lease_ms = duration_ms(lease);
    let mut attempt = 0;
    loop {
        let want = i64::from(n) - claim.events.len() as i64;
        let statement = prepared(CLAIM_SQL)
            .bind::<Text, _>(worker)
            .bind::<Int8, _>(want)
            .bind::<Int8, _>(lease_ms);
        // One statement is atomic on its own; inside the caller's transaction a savepoint
        // keeps a lost race from aborting that transaction.
        let result = if in_transaction(conn) {
            conn.transaction::<Vec<Event>, diesel::result::Error, _>(async |conn| {
                statement.load(conn).await
            })
            .await
        } else {
            statement.load(conn).await
        };
        match result {
            Ok(rows) => {
                let (mut taken, mut superseded): (Vec<Event>, Vec<Event>) = rows
                    .into_iter()
                    .partition(|e| e.status == EventStatus::Processing);
                let exhausted =
                    (taken.len() + superseded.len()) < usize::try_from(want).unwrap_or(0);
                let more = !superseded.is_empty();
                claim.events.append(&mut taken);
                claim.superseded.append(&mut superseded);
                // Superseded rows used up part of the batch: look further, unless the queue
                // had nothing more to give.
                if !more || exhausted || claim.events.len() >= n as usize {
                    return Ok(claim);
                }
            }
            Err(e) if attempt + 1 < RACE_RETRIES && is_retryable_race(&e, IN_FLIGHT_INDEX) => {
                attempt += 1;
                tracing::debug!(
                    attempt,
                    "claim lost a race to another claimer; claiming again"
                );
            }
            // What an earlier round did is committed: hand it out rather than leave it to the
            // lease.
            Err(e) if !claim.events.is_empty() || !claim.superseded.is_empty() => {
                tracing::warn!(error = %e, "claiming further failed; handing out what was claimed");
                return Ok(claim);
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// When the first active connection whose record events wait only for its Webflow budget
/// (its token's bucket or its cap, spent or paused) can be claimed again; `None` when no
/// waiting connection has a closed budget. A worker that claimed nothing sleeps until then
/// rather than polling: a closed budget sends no notification when it opens.
pub async fn budget_opens_at(
    conn: &mut AsyncPgConnection,
) -> Result<Option<time::OffsetDateTime>, StoreError> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
        at: Option<time::OffsetDateTime>,
    }
    let row: Row = prepared(
        "SELECT min(b.at) AS at \
         FROM connections c \
         CROSS JOIN LATERAL ( \
             SELECT greatest(rate_bucket_opens_at('webflow:' || c.webflow_token_fingerprint), \
                             rate_bucket_opens_at('webflow-cap:' || c.id::text)) AS at \
         ) b \
         WHERE c.status = 'active' \
           AND b.at > now() \
           AND EXISTS (SELECT 1 FROM events e \
                       WHERE e.connection_id = c.id AND e.kind = 'record' \
                         AND e.status IN ('queued', 'failed'))",
    )
    .get_result(conn)
    .await?;
    Ok(row.at)
}
