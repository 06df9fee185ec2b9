//! Helpers shared by the queue's integration tests (`queue_enqueue`, `queue_claim`,
//! `queue_settle`, `queue_admin`).

use std::time::Duration;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use suiteflow_store::schema::events;
use suiteflow_store::{AsyncPgConnection, EventId, EventStatus, queue};

pub const LEASE: Duration = Duration::from_secs(60);

pub async fn count_events(conn: &mut AsyncPgConnection) -> i64 {
    events::table.count().get_result(conn).await.unwrap()
}

pub async fn status_of(conn: &mut AsyncPgConnection, id: EventId) -> EventStatus {
    queue::get_event(conn, id).await.unwrap().unwrap().status
}
