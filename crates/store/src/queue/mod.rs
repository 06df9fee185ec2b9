//! The durable event queue (DESIGN §6): enqueue with idempotency, SKIP LOCKED claims with a
//! lease, outcomes fenced by the lease owner, queue metrics and retention.
//!
//! Every function takes a `&mut AsyncPgConnection` so the caller decides the transaction: a pull
//! inserts its record events and the new cursor in one transaction; the ingress inserts with
//! nothing else open.

use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Int8, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use time::OffsetDateTime;

use crate::error::is_retryable_race;
use crate::prepared::prepared;
use crate::schema::{events, sql_types};
use crate::{ConnectionId, EventId, EventKind, EventStatus, StoreError};

/// The channel enqueues notify (see [`notify_workers`] and [`crate::Listener`]).
pub const EVENTS_CHANNEL: &str = "suiteflow_events";

const CLAIM_SQL: &str = include_str!("claim.sql");
const ENQUEUE_SQL: &str = include_str!("enqueue.sql");
const ENQUEUE_MANY_SQL: &str = include_str!("enqueue_many.sql");
const UNLOCK_SQL: &str = include_str!("unlock.sql");
const READY_SQL: &str = include_str!("ready.sql");

/// How often a statement that lost a race to a concurrent one is run again.
const RACE_RETRIES: usize = 8;

/// An event to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub connection_id: ConnectionId,
    pub kind: EventKind,
    /// The SmartSuite record id (`record`) or the SmartSuite webhook id (`pull`).
    pub external_id: String,
    /// `record_created`, `record_updated`, `record_deleted`, `pull`, `keep_alive`, …
    pub event_type: String,
    /// Unique per connection; a second event with the same key is a duplicate.
    pub idempotency_key: String,
    pub payload: Value,
    pub payload_hash: Option<String>,
    pub webhook_timestamp: Option<OffsetDateTime>,
    /// W3C trace context of the request that enqueued the event.
    pub trace_context: Option<Value>,
}

impl NewEvent {
    /// A `record` event with an empty payload and no optional fields.
    pub fn record(
        connection_id: ConnectionId,
        external_id: impl Into<String>,
        event_type: impl Into<String>,
        idempotency_key: impl Into<String>,
    ) -> Self {
        Self {
            connection_id,
            kind: EventKind::Record,
            external_id: external_id.into(),
            event_type: event_type.into(),
            idempotency_key: idempotency_key.into(),
            payload: Value::Object(serde_json::Map::new()),
            payload_hash: None,
            webhook_timestamp: None,
            trace_context: None,
        }
    }

    /// A `pull` event for SmartSuite webhook `webhook_id`.
    pub fn pull(
        connection_id: ConnectionId,
        webhook_id: impl Into<String>,
        idempotency_key: impl Into<String>,
    ) -> Self {
        Self {
            kind: EventKind::Pull,
            ..Self::record(connection_id, webhook_id, "pull", idempotency_key)
        }
    }

    /// The same event with `payload`.
    pub fn with_payload(mut self, payload: Value) -> Self {
        self.payload = payload;
        self
    }
}

/// What [`enqueue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new event was inserted.
    Inserted(EventId),
    /// Nothing was inserted: the event duplicates this one (same idempotency key, or the
    /// connection's pending pull).
    Duplicate(EventId),
}

impl Enqueued {
    /// The new event's id, or the original's.
    pub fn id(self) -> EventId {
        match self {
            Self::Inserted(id) | Self::Duplicate(id) => id,
        }
    }

    pub fn is_duplicate(self) -> bool {
        matches!(self, Self::Duplicate(_))
    }
}

/// A row of `events`.
#[derive(Debug, Clone, PartialEq, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = events, check_for_backend(diesel::pg::Pg))]
pub struct Event {
    pub id: EventId,
    pub seq: i64,
    pub connection_id: ConnectionId,
    pub kind: EventKind,
    pub external_id: String,
    pub event_type: String,
    pub idempotency_key: String,
    pub payload: Value,
    pub payload_hash: Option<String>,
    pub status: EventStatus,
    /// Claims so far, including the current one.
    pub attempts: i32,
    pub retry_after: Option<OffsetDateTime>,
    pub locked_by: Option<String>,
    pub lease_expires_at: Option<OffsetDateTime>,
    pub error: Option<String>,
    pub warnings: Option<Value>,
    pub partial_success: bool,
    pub webflow_item_id: Option<String>,
    pub webflow_response: Option<Value>,
    pub queued_at: OffsetDateTime,
    pub started_at: Option<OffsetDateTime>,
    pub processed_at: Option<OffsetDateTime>,
    pub duration_ms: Option<i64>,
    pub webhook_timestamp: Option<OffsetDateTime>,
    pub trace_context: Option<Value>,
}

/// What a successful event leaves behind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Completion {
    pub webflow_item_id: Option<String>,
    pub webflow_response: Option<Value>,
    /// Fields that failed to map (partial success).
    pub warnings: Vec<String>,
}

#[derive(QueryableByName)]
struct EnqueueRow {
    #[diesel(sql_type = SqlUuid)]
    id: EventId,
    #[diesel(sql_type = Bool)]
    inserted: bool,
}

/// Inserts `event` unless it duplicates an existing one, in one round trip (the insert and a
/// pipelined NOTIFY for waiting workers, see [`notify_workers`]).
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    event: &NewEvent,
) -> Result<Enqueued, StoreError> {
    let notify = notify_sql(conn);
    for round in 0..RACE_RETRIES {
        let insert = prepared(ENQUEUE_SQL)
            .bind::<SqlUuid, _>(event.connection_id)
            .bind::<Text, _>(event.kind.as_str())
            .bind::<Text, _>(&event.external_id)
            .bind::<Text, _>(&event.event_type)
            .bind::<Text, _>(&event.idempotency_key)
            .bind::<Jsonb, _>(&event.payload)
            .bind::<Nullable<Text>, _>(event.payload_hash.as_deref())
            .bind::<Nullable<Timestamptz>, _>(event.webhook_timestamp)
            .bind::<Nullable<Jsonb>, _>(event.trace_context.as_ref());
        let row: Option<EnqueueRow> = if round == 0 {
            // One round trip: the NOTIFY is pipelined behind the insert.
            let shared: &AsyncPgConnection = conn;
            let (rows, _) = tokio::try_join!(
                insert.load::<EnqueueRow>(&mut &*shared),
                prepared(notify).execute(&mut &*shared),
            )?;
            rows.into_iter().next()
        } else {
            insert.get_result(conn).await.optional()?
        };
        match row {
            Some(EnqueueRow { id, inserted: true }) => return Ok(Enqueued::Inserted(id)),
            Some(EnqueueRow {
                id,
                inserted: false,
            }) => return Ok(Enqueued::Duplicate(id)),
            // The conflicting row was committed after this statement's snapshot was taken:
            // run it again with a fresh snapshot.
            None => continue,
        }
    }
    Err(StoreError::Invalid(
        "enqueue conflicted with an event that stayed invisible".into(),
    ))
}

/// The NOTIFY sent behind an enqueue. Outside a transaction it is its own transaction, committed
/// without waiting for the WAL flush: PostgreSQL serialises the commits of notifying
/// transactions, so a NOTIFY inside every durable insert would serialise the ingress on fsync.
/// Inside the caller's transaction it is delivered when that transaction commits.
fn notify_sql(conn: &mut AsyncPgConnection) -> &'static str {
    if in_transaction(conn) {
        "SELECT pg_notify('suiteflow_events', '')"
    } else {
        "SELECT set_config('synchronous_commit', 'off', true), pg_notify('suiteflow_events', '')"
    }
}

fn in_transaction(conn: &mut AsyncPgConnection) -> bool {
    use diesel_async::TransactionManager as _;
    !matches!(
        diesel_async::AnsiTransactionManager::transaction_manager_status_mut(conn)
            .transaction_depth(),
        Ok(None)
    )
}

/// Wakes waiting workers ([`crate::Listener`]); inside a transaction, when it commits.
/// [`enqueue`] and [`enqueue_many`] do this themselves.
pub async fn notify_workers(conn: &mut AsyncPgConnection) -> Result<(), StoreError> {
    prepared(notify_sql(conn)).execute(conn).await?;
    Ok(())
}

#[derive(QueryableByName)]
struct EnqueueManyRow {
    #[diesel(sql_type = Int8)]
    ord: i64,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    inserted_id: Option<EventId>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    original_id: Option<EventId>,
}

/// Inserts many events in one statement; one [`Enqueued`] per input, in input order. Within
/// the batch, a later event with the key of an earlier one is a duplicate of it.
pub async fn enqueue_many(
    conn: &mut AsyncPgConnection,
    new_events: &[NewEvent],
) -> Result<Vec<Enqueued>, StoreError> {
    if new_events.is_empty() {
        return Ok(Vec::new());
    }
    let column = |f: fn(&NewEvent) -> String| new_events.iter().map(f).collect::<Vec<_>>();
    let notify = notify_sql(conn);
    let shared: &AsyncPgConnection = conn;
    let insert = prepared(ENQUEUE_MANY_SQL)
        .bind::<Array<SqlUuid>, _>(
            new_events
                .iter()
                .map(|e| e.connection_id)
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Text>, _>(column(|e| e.kind.as_str().to_owned()))
        .bind::<Array<Text>, _>(column(|e| e.external_id.clone()))
        .bind::<Array<Text>, _>(column(|e| e.event_type.clone()))
        .bind::<Array<Text>, _>(column(|e| e.idempotency_key.clone()))
        .bind::<Array<Jsonb>, _>(
            new_events
                .iter()
                .map(|e| e.payload.clone())
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Text>>, _>(
            new_events
                .iter()
                .map(|e| e.payload_hash.clone())
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Timestamptz>>, _>(
            new_events
                .iter()
                .map(|e| e.webhook_timestamp)
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Jsonb>>, _>(
            new_events
                .iter()
                .map(|e| e.trace_context.clone())
                .collect::<Vec<_>>(),
        );
    let (rows, _) = tokio::try_join!(
        insert.load::<EnqueueManyRow>(&mut &*shared),
        prepared(notify).execute(&mut &*shared),
    )?;

    let mut results: Vec<Option<Enqueued>> = vec![None; new_events.len()];
    let mut claimed_inserts = std::collections::HashSet::new();
    for row in rows {
        let Some(index) = usize::try_from(row.ord).ok().and_then(|o| o.checked_sub(1)) else {
            continue;
        };
        let Some(slot) = results.get_mut(index) else {
            continue;
        };
        *slot = match (row.inserted_id, row.original_id) {
            // The first input carrying an inserted key inserted it; later ones duplicate it.
            (Some(id), _) if claimed_inserts.insert(id) => Some(Enqueued::Inserted(id)),
            (Some(id), _) | (None, Some(id)) => Some(Enqueued::Duplicate(id)),
            (None, None) => None,
        };
    }
    // What is left conflicted with a row this statement could not see: a pull behind another
    // pull of the same batch, or an event committed concurrently.
    for index in 0..new_events.len() {
        if results[index].is_some() {
            continue;
        }
        let event = &new_events[index];
        let earlier_pull = (event.kind == EventKind::Pull)
            .then(|| {
                (0..index).find_map(|j| match results[j] {
                    Some(Enqueued::Inserted(id))
                        if new_events[j].kind == EventKind::Pull
                            && new_events[j].connection_id == event.connection_id =>
                    {
                        Some(id)
                    }
                    _ => None,
                })
            })
            .flatten();
        results[index] = Some(match earlier_pull {
            Some(id) => Enqueued::Duplicate(id),
            None => enqueue(conn, event).await?,
        });
    }
    Ok(results.into_iter().flatten().collect())
}

/// Claims up to `n` events for `worker` with a lease of `lease`, in one statement (DESIGN
/// §6.1): queued, failed-and-due, and processing-with-expired-lease events of active
/// connections; never two events of one record in flight; superseded events become `skipped`.
///
/// Runs as one statement, or in a savepoint when the caller has a transaction open, so that a
/// claim that loses a race to another claimer can be run again. When superseded events took up
/// part of the batch, the claim looks further (another statement) so that an empty answer
/// means nothing is claimable right now.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    worker: &str,
    n: u32,
    lease: Duration,
) -> Result<Vec<Event>, StoreError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let lease_ms = duration_ms(lease);
    let mut claimed: Vec<Event> = Vec::new();
    let mut attempt = 0;
    loop {
        let want = i64::from(n) - claimed.len() as i64;
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
                let (mut taken, superseded): (Vec<Event>, Vec<Event>) = rows
                    .into_iter()
                    .partition(|e| e.status == EventStatus::Processing);
                let exhausted =
                    (taken.len() + superseded.len()) < usize::try_from(want).unwrap_or(0);
                claimed.append(&mut taken);
                // Superseded rows used up part of the batch: look further, unless the queue
                // had nothing more to give.
                if superseded.is_empty() || exhausted || claimed.len() >= n as usize {
                    return Ok(claimed);
                }
            }
            Err(e) if attempt + 1 < RACE_RETRIES && is_retryable_race(&e, IN_FLIGHT_INDEX) => {
                attempt += 1;
                tracing::debug!(
                    attempt,
                    "claim lost a race to another claimer; claiming again"
                );
            }
            // What an earlier round claimed is committed: hand it out rather than leave it
            // to the lease.
            Err(_) if !claimed.is_empty() => return Ok(claimed),
            Err(e) => return Err(e.into()),
        }
    }
}

const IN_FLIGHT_INDEX: &str = "events_one_in_flight_per_record";
const PENDING_PULL_INDEX: &str = "events_one_pending_pull";

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// SQL for `now() - queued_at` in whole milliseconds.
fn elapsed_since_queued() -> diesel::expression::SqlLiteral<Nullable<Int8>> {
    diesel::dsl::sql::<Nullable<Int8>>(
        "(extract(epoch FROM (now() - events.queued_at)) * 1000)::bigint",
    )
}

/// The fence of every outcome: the event is still `processing` under `worker`'s lease.
fn held_by(
    worker: &str,
) -> diesel::dsl::And<
    diesel::dsl::Eq<events::locked_by, &str>,
    diesel::dsl::Eq<events::status, EventStatus>,
> {
    events::locked_by
        .eq(worker)
        .and(events::status.eq(EventStatus::Processing))
}

/// What every final outcome sets: the status, when and how long after queueing, lease released.
#[allow(clippy::type_complexity)]
fn finished(
    status: EventStatus,
) -> (
    diesel::dsl::Eq<events::status, EventStatus>,
    diesel::dsl::Eq<events::processed_at, diesel::dsl::now>,
    diesel::dsl::Eq<events::duration_ms, diesel::expression::SqlLiteral<Nullable<Int8>>>,
    diesel::dsl::Eq<events::locked_by, Option<String>>,
    diesel::dsl::Eq<events::lease_expires_at, Option<OffsetDateTime>>,
) {
    (
        events::status.eq(status),
        events::processed_at.eq(diesel::dsl::now),
        events::duration_ms.eq(elapsed_since_queued()),
        events::locked_by.eq(None::<String>),
        events::lease_expires_at.eq(None::<OffsetDateTime>),
    )
}

/// Records success for an event `worker` holds. [`StoreError::LeaseLost`] (and no change) when
/// another worker took the event over.
pub async fn complete(
    conn: &mut AsyncPgConnection,
    worker: &str,
    id: EventId,
    completion: &Completion,
) -> Result<(), StoreError> {
    let warnings =
        (!completion.warnings.is_empty()).then(|| Value::from(completion.warnings.clone()));
    let updated = diesel::update(
        events::table
            .filter(events::id.eq(id))
            .filter(held_by(worker)),
    )
    .set((
        finished(EventStatus::Success),
        events::error.eq(None::<String>),
        events::partial_success.eq(warnings.is_some()),
        events::warnings.eq(warnings),
        events::webflow_item_id.eq(completion.webflow_item_id.as_deref()),
        events::webflow_response.eq(completion.webflow_response.as_ref()),
    ))
    .execute(conn)
    .await?;
    fenced(updated, id)
}

/// Records success for many events `worker` holds, in one statement. Returns the ids that were
/// not completed because their lease was lost (empty when all were).
pub async fn complete_many(
    conn: &mut AsyncPgConnection,
    worker: &str,
    ids: &[EventId],
) -> Result<Vec<EventId>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let done: Vec<EventId> = diesel::update(
        events::table
            .filter(events::id.eq_any(ids))
            .filter(held_by(worker)),
    )
    .set((
        finished(EventStatus::Success),
        events::error.eq(None::<String>),
    ))
    .returning(events::id)
    .get_results(conn)
    .await?;
    let done: std::collections::HashSet<EventId> = done.into_iter().collect();
    Ok(ids
        .iter()
        .copied()
        .filter(|id| !done.contains(id))
        .collect())
}

/// Moves an event `worker` holds to `dead_letter`, keeping `error`.
pub async fn dead_letter(
    conn: &mut AsyncPgConnection,
    worker: &str,
    id: EventId,
    error: &str,
) -> Result<(), StoreError> {
    let updated = diesel::update(
        events::table
            .filter(events::id.eq(id))
            .filter(held_by(worker)),
    )
    .set((finished(EventStatus::DeadLetter), events::error.eq(error)))
    .execute(conn)
    .await?;
    fenced(updated, id)
}

/// Records a retryable failure of an event `worker` holds: `failed`, claimable again from
/// `retry_after`. Returns the status set: `Failed`, or `Skipped` for a pull superseded by a
/// newer pending pull of its connection.
pub async fn fail(
    conn: &mut AsyncPgConnection,
    worker: &str,
    id: EventId,
    error: &str,
    retry_after: OffsetDateTime,
) -> Result<EventStatus, StoreError> {
    unlock(
        conn,
        worker,
        id,
        EventStatus::Failed,
        Some(error),
        Some(retry_after),
        false,
    )
    .await
}

/// Puts an event `worker` holds back in the queue without spending an attempt (a 429, a
/// shutdown, a connection put in `error`): `queued`, claimable from `retry_after` if given.
/// Returns `Queued`, or `Skipped` for a pull superseded by a newer pending pull.
pub async fn release(
    conn: &mut AsyncPgConnection,
    worker: &str,
    id: EventId,
    retry_after: Option<OffsetDateTime>,
) -> Result<EventStatus, StoreError> {
    unlock(
        conn,
        worker,
        id,
        EventStatus::Queued,
        None,
        retry_after,
        true,
    )
    .await
}

#[derive(QueryableByName)]
struct StatusRow {
    #[diesel(sql_type = sql_types::EventStatus)]
    status: EventStatus,
}

async fn unlock(
    conn: &mut AsyncPgConnection,
    worker: &str,
    id: EventId,
    to: EventStatus,
    error: Option<&str>,
    retry_after: Option<OffsetDateTime>,
    refund_attempt: bool,
) -> Result<EventStatus, StoreError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = conn
            .transaction::<Option<StatusRow>, diesel::result::Error, _>(async |conn| {
                prepared(UNLOCK_SQL)
                    .bind::<SqlUuid, _>(id)
                    .bind::<Text, _>(worker)
                    .bind::<Text, _>(to.as_str())
                    .bind::<Nullable<Text>, _>(error)
                    .bind::<Nullable<Timestamptz>, _>(retry_after)
                    .bind::<Bool, _>(refund_attempt)
                    .get_result(conn)
                    .await
                    .optional()
            })
            .await;
        match result {
            Ok(Some(row)) => return Ok(row.status),
            Ok(None) => return Err(StoreError::LeaseLost { event: id }),
            // A pull was enqueued for the connection after this statement's snapshot.
            Err(e) if attempt < RACE_RETRIES && is_retryable_race(&e, PENDING_PULL_INDEX) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Extends the lease of an event `worker` holds to `lease` from now (a long-running event).
pub async fn extend_lease(
    conn: &mut AsyncPgConnection,
    worker: &str,
    id: EventId,
    lease: Duration,
) -> Result<OffsetDateTime, StoreError> {
    let expires = diesel::update(
        events::table
            .filter(events::id.eq(id))
            .filter(held_by(worker)),
    )
    .set(
        events::lease_expires_at.eq(diesel::dsl::sql::<Nullable<Timestamptz>>(&format!(
            "now() + interval '{} milliseconds'",
            duration_ms(lease)
        ))),
    )
    .returning(events::lease_expires_at)
    .get_result::<Option<OffsetDateTime>>(conn)
    .await
    .optional()?;
    expires.flatten().ok_or(StoreError::LeaseLost { event: id })
}

fn fenced(updated: usize, id: EventId) -> Result<(), StoreError> {
    if updated == 0 {
        Err(StoreError::LeaseLost { event: id })
    } else {
        Ok(())
    }
}

/// One event by id.
pub async fn get_event(
    conn: &mut AsyncPgConnection,
    id: EventId,
) -> Result<Option<Event>, StoreError> {
    Ok(events::table
        .find(id)
        .select(Event::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Puts a finished (`dead_letter`, `failed`, `skipped` or `success`) event back in the queue
/// with its attempts reset, for an operator's replay. `false` when the event is unknown or
/// queued or in flight.
pub async fn requeue(conn: &mut AsyncPgConnection, id: EventId) -> Result<bool, StoreError> {
    let updated = diesel::update(
        events::table
            .filter(events::id.eq(id))
            .filter(events::status.ne_all([EventStatus::Queued, EventStatus::Processing])),
    )
    .set((
        events::status.eq(EventStatus::Queued),
        events::attempts.eq(0),
        events::retry_after.eq(None::<OffsetDateTime>),
        events::error.eq(None::<String>),
        events::processed_at.eq(None::<OffsetDateTime>),
        events::duration_ms.eq(None::<i64>),
    ))
    .execute(conn)
    .await?;
    Ok(updated == 1)
}

/// How far behind the queue is, over the waiting events (queued or failed) of active
/// connections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// The events a worker could claim now (queued or failed, and due: not rescheduled for
    /// later): what KEDA scales the worker on (`worker_queue_depth`).
    pub depth: i64,
    /// How long the oldest waiting event has waited, one waiting for a retry included;
    /// `None` when nothing waits (`worker_oldest_event_age_seconds`).
    pub oldest_age: Option<Duration>,
}

/// [`QueueStats`] in one statement. It counts the waiting events, so call it every few
/// seconds, not once per claimed batch.
pub async fn queue_stats(conn: &mut AsyncPgConnection) -> Result<QueueStats, StoreError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Int8)]
        depth: i64,
        #[diesel(sql_type = Nullable<Int8>)]
        oldest_ms: Option<i64>,
    }
    let row: Row = prepared(READY_SQL).get_result(conn).await?;
    Ok(QueueStats {
        depth: row.depth,
        oldest_age: row
            .oldest_ms
            .map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or(0))),
    })
}

/// Deletes up to `batch` finished events (`success`, `skipped`, and `dead_letter` when
/// `include_dead_letters`) processed before `before`; returns how many. Call it until it returns
/// less than `batch` (see [`purge_finished_all`]); each call is one short statement.
pub async fn purge_finished(
    conn: &mut AsyncPgConnection,
    before: OffsetDateTime,
    batch: u32,
    include_dead_letters: bool,
) -> Result<u64, StoreError> {
    let deleted = diesel::sql_query(
        "DELETE FROM events WHERE id IN ( \
             SELECT id FROM events \
             WHERE status IN ('success', 'skipped', 'dead_letter') \
               AND (status <> 'dead_letter' OR $3) \
               AND processed_at < $1 \
             ORDER BY processed_at \
             LIMIT $2 \
             FOR UPDATE SKIP LOCKED)",
    )
    .bind::<Timestamptz, _>(before)
    .bind::<Int8, _>(i64::from(batch))
    .bind::<Bool, _>(include_dead_letters)
    .execute(conn)
    .await?;
    Ok(deleted as u64)
}

/// Runs [`purge_finished`] in batches until nothing older than `before` is left; returns the
/// total deleted.
pub async fn purge_finished_all(
    conn: &mut AsyncPgConnection,
    before: OffsetDateTime,
    batch: u32,
    include_dead_letters: bool,
) -> Result<u64, StoreError> {
    let batch = batch.max(1);
    let mut total = 0;
    loop {
        let deleted = purge_finished(conn, before, batch, include_dead_letters).await?;
        total += deleted;
        if deleted < u64::from(batch) {
            return Ok(total);
        }
    }
}

/// Counts of events by status (all connections), for the CLI and the operator API.
pub async fn count_by_status(
    conn: &mut AsyncPgConnection,
) -> Result<Vec<(EventStatus, i64)>, StoreError> {
    Ok(events::table
        .group_by(events::status)
        .select((events::status, diesel::dsl::count_star()))
        .load(conn)
        .await?)
}

/// Events, newest first, optionally of one status and one connection; at most `limit`.
pub async fn list_events(
    conn: &mut AsyncPgConnection,
    status: Option<EventStatus>,
    connection: Option<ConnectionId>,
    limit: i64,
) -> Result<Vec<Event>, StoreError> {
    let mut query = events::table
        .select(Event::as_select())
        .order(events::seq.desc())
        .limit(limit)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(events::status.eq(status));
    }
    if let Some(connection) = connection {
        query = query.filter(events::connection_id.eq(connection));
    }
    Ok(query.load(conn).await?)
}

/// Ids of the dead-lettered events (of one connection), oldest first.
pub async fn dead_letter_ids(
    conn: &mut AsyncPgConnection,
    connection: Option<ConnectionId>,
) -> Result<Vec<EventId>, StoreError> {
    let mut query = events::table
        .select(events::id)
        .filter(events::status.eq(EventStatus::DeadLetter))
        .order(events::seq.asc())
        .into_boxed();
    if let Some(connection) = connection {
        query = query.filter(events::connection_id.eq(connection));
    }
    Ok(query.load(conn).await?)
}

/// One connection's event counts by status, of one kind or of all.
pub async fn count_by_status_of(
    conn: &mut AsyncPgConnection,
    connection: ConnectionId,
    kind: Option<EventKind>,
) -> Result<Vec<(EventStatus, i64)>, StoreError> {
    let mut query = events::table
        .filter(events::connection_id.eq(connection))
        .group_by(events::status)
        .select((events::status, diesel::dsl::count_star()))
        .into_boxed();
    if let Some(kind) = kind {
        query = query.filter(events::kind.eq(kind));
    }
    Ok(query.load(conn).await?)
}

/// How many of `ids` are stored events (an acknowledged event must be one).
pub async fn count_stored(
    conn: &mut AsyncPgConnection,
    ids: &[EventId],
) -> Result<i64, StoreError> {
    Ok(events::table
        .filter(events::id.eq_any(ids))
        .count()
        .get_result(conn)
        .await?)
}
