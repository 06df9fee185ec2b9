//! Event queries the CLI needs that `suiteflow-store` does not offer yet. They belong in
//! `crates/store/src/queue` (the one home for SQL); until they move there they live here, the
//! only place in this binary that builds SQL.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use suiteflow_store::queue::Event;
use suiteflow_store::schema::events;
use suiteflow_store::{ConnectionId, EventId, EventStatus, StoreError};

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

/// One connection's event counts by status.
pub async fn count_by_status_of(
    conn: &mut AsyncPgConnection,
    connection: ConnectionId,
) -> Result<Vec<(EventStatus, i64)>, StoreError> {
    Ok(events::table
        .filter(events::connection_id.eq(connection))
        .group_by(events::status)
        .select((events::status, diesel::dsl::count_star()))
        .load(conn)
        .await?)
}
