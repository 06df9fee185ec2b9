//! What operators and gauges need: one event, replays, the queue's depth and oldest age,
//! counts and lists, and the retention purge.

use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{Bool, Int8, Nullable, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use time::OffsetDateTime;

use super::Event;
use crate::prepared::prepared;
use crate::schema::events;
use crate::{ConnectionId, EventId, EventKind, EventStatus, StoreError};

const READY_SQL: &str = include_str!("ready.sql");

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
        events::error_detail.eq(None::<Value>),
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

/// Events, newest first, as `filter` says (paged by `seq`, never by offset).
pub async fn list_events(
    conn: &mut AsyncPgConnection,
    filter: &EventFilter,
) -> Result<Vec<Event>, StoreError> {
    // Ordered by `-seq`, the expression the list's indexes hold (see the console migration):
    // newest first, without offering the claim an index on `seq`.
    let mut query = events::table
        .select(Event::as_select())
        .order(diesel::dsl::sql::<Int8>("(-events.seq)"))
        .limit(filter.limit)
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(events::status.eq(status));
    }
    if let Some(connection) = filter.connection {
        query = query.filter(events::connection_id.eq(connection));
    }
    if filter.partial {
        query = query.filter(events::partial_success);
    }
    if let Some(event_type) = &filter.event_type {
        query = query.filter(events::event_type.eq(event_type));
    }
    if let Some(record) = &filter.external_id {
        query = query.filter(events::external_id.eq(record));
    }
    if let Some(before) = filter.before_seq {
        query = query.filter(
            diesel::dsl::sql::<Bool>("(-events.seq) > ").bind::<Int8, _>(before.saturating_neg()),
        );
    }
    Ok(query.load(conn).await?)
}

/// Which events [`list_events`] lists: newest first, at most `limit`, after `before_seq`
/// when paging (the `seq` of the last event of the previous page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter {
    pub status: Option<EventStatus>,
    pub connection: Option<ConnectionId>,
    /// Only partial successes: written, with fields that could not be (their warnings say
    /// which and why).
    pub partial: bool,
    /// Only this `event_type` (`record_updated`, `pull`, …).
    pub event_type: Option<String>,
    /// Only events of this SmartSuite record (or webhook, for pulls).
    pub external_id: Option<String>,
    pub before_seq: Option<i64>,
    pub limit: i64,
}

impl Default for EventFilter {
    fn default() -> Self {
        Self {
            status: None,
            connection: None,
            partial: false,
            event_type: None,
            external_id: None,
            before_seq: None,
            limit: 50,
        }
    }
}

/// Events finished per minute since `since`, by status (and whether a success was partial):
/// the console's chart. Served by the index on `processed_at`.
pub async fn finished_per_minute(
    conn: &mut AsyncPgConnection,
    since: time::OffsetDateTime,
) -> Result<Vec<FinishedInMinute>, StoreError> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Timestamptz)]
        minute: time::OffsetDateTime,
        #[diesel(sql_type = crate::schema::sql_types::EventStatus)]
        status: EventStatus,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        partial: bool,
        #[diesel(sql_type = diesel::sql_types::Int8)]
        events: i64,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT date_trunc('minute', processed_at) AS minute, status, partial_success AS partial, \
                count(*) AS events \
         FROM events WHERE processed_at IS NOT NULL AND processed_at >= $1 \
         GROUP BY 1, 2, 3 ORDER BY 1",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(since)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| FinishedInMinute {
            minute: r.minute,
            status: r.status,
            partial: r.partial,
            events: r.events,
        })
        .collect())
}

/// One bar of [`finished_per_minute`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedInMinute {
    pub minute: time::OffsetDateTime,
    pub status: EventStatus,
    pub partial: bool,
    pub events: i64,
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
