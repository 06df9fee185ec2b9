//! Workers' heartbeats: each worker upserts its row every few seconds, with the batch it has in
//! hand, whether or not there is work, and marks it when it stops cleanly; rows of workers
//! unseen for a day are removed.

use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::OffsetDateTime;

use crate::StoreError;
use crate::schema::workers;

/// A row of `workers`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = workers, check_for_backend(diesel::pg::Pg))]
pub struct WorkerBeat {
    /// The worker's name in `events.locked_by`.
    pub id: String,
    pub host: String,
    pub started_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    /// Events in the batch in hand (0: idle).
    pub current_batch: i32,
    /// Since when that batch is worked on.
    pub batch_started_at: Option<OffsetDateTime>,
    /// When it stopped cleanly (`None`: running, or gone without stopping).
    pub stopped_at: Option<OffsetDateTime>,
}

/// What a worker says of itself in a heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Beat<'a> {
    pub id: &'a str,
    pub host: &'a str,
    pub started_at: OffsetDateTime,
    /// The batch in hand: its events and when it was claimed.
    pub batch: Option<(i32, OffsetDateTime)>,
}

/// Records `beat`, seen now (one upsert).
pub async fn heartbeat(conn: &mut AsyncPgConnection, beat: &Beat<'_>) -> Result<(), StoreError> {
    let (current_batch, batch_started_at) = match beat.batch {
        Some((events, since)) => (events, Some(since)),
        None => (0, None),
    };
    diesel::insert_into(workers::table)
        .values((
            workers::id.eq(beat.id),
            workers::host.eq(beat.host),
            workers::started_at.eq(beat.started_at),
            workers::last_seen_at.eq(diesel::dsl::now),
            workers::current_batch.eq(current_batch),
            workers::batch_started_at.eq(batch_started_at),
        ))
        .on_conflict(workers::id)
        .do_update()
        .set((
            workers::last_seen_at.eq(diesel::dsl::now),
            workers::current_batch.eq(excluded(workers::current_batch)),
            workers::batch_started_at.eq(excluded(workers::batch_started_at)),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The most workers [`running_workers`] returns.
pub const RUNNING_WORKERS_LISTED: i64 = 100;

/// The workers that have not stopped cleanly (running, or gone without a word: their last
/// heartbeat tells), the most recently seen first, at most [`RUNNING_WORKERS_LISTED`].
pub async fn running_workers(conn: &mut AsyncPgConnection) -> Result<Vec<WorkerBeat>, StoreError> {
    Ok(workers::table
        .filter(workers::stopped_at.is_null())
        .order((workers::last_seen_at.desc(), workers::id.asc()))
        .limit(RUNNING_WORKERS_LISTED)
        .select(WorkerBeat::as_select())
        .load(conn)
        .await?)
}

/// Records that worker `id` stopped cleanly, seen now with nothing in hand.
pub async fn worker_stopped(conn: &mut AsyncPgConnection, id: &str) -> Result<(), StoreError> {
    diesel::update(workers::table.find(id))
        .set((
            workers::last_seen_at.eq(diesel::dsl::now),
            workers::stopped_at.eq(diesel::dsl::now),
            workers::current_batch.eq(0),
            workers::batch_started_at.eq(None::<OffsetDateTime>),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// When any worker was last seen, stopped ones included (`/api/health`'s `workerLastRun`);
/// `None` when none ran in the last day.
pub async fn worker_last_seen(
    conn: &mut AsyncPgConnection,
) -> Result<Option<OffsetDateTime>, StoreError> {
    Ok(workers::table
        .select(diesel::dsl::max(workers::last_seen_at))
        .get_result(conn)
        .await?)
}

/// Removes the rows of workers unseen since `before`; returns how many.
pub async fn forget_workers_unseen_since(
    conn: &mut AsyncPgConnection,
    before: OffsetDateTime,
) -> Result<usize, StoreError> {
    Ok(
        diesel::delete(workers::table.filter(workers::last_seen_at.lt(before)))
            .execute(conn)
            .await?,
    )
}
