//! Rows as tests need to see and arrange them: the SQL of tests, kept beside the store's schema
//! so no test writes its own (the store is the only production crate that speaks SQL).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use suiteflow_store::schema::{audit_log, connections, events, workers};
use suiteflow_store::{ConnectionId, Event, EventId, EventStatus};
use time::OffsetDateTime;

/// Every event, in queue order.
pub async fn all_events(conn: &mut AsyncPgConnection) -> Vec<Event> {
    events::table
        .select(Event::as_select())
        .order(events::seq.asc())
        .load(conn)
        .await
        .expect("reading events")
}

/// The events of one record (or of one SmartSuite webhook, for pulls), in queue order.
pub async fn events_of(conn: &mut AsyncPgConnection, external_id: &str) -> Vec<Event> {
    events::table
        .filter(events::external_id.eq(external_id))
        .select(Event::as_select())
        .order(events::seq.asc())
        .load(conn)
        .await
        .expect("reading events")
}

/// How many events are stored (all kinds and statuses).
pub async fn event_count(conn: &mut AsyncPgConnection) -> i64 {
    events::table
        .count()
        .get_result(conn)
        .await
        .expect("counting events")
}

/// How many of `ids` are stored events (an acknowledged event must be one).
pub async fn count_stored(conn: &mut AsyncPgConnection, ids: &[EventId]) -> i64 {
    events::table
        .filter(events::id.eq_any(ids))
        .count()
        .get_result(conn)
        .await
        .expect("counting events")
}

/// Moves every waiting event's `retry_after` to now, as if its wait had passed.
pub async fn make_due(conn: &mut AsyncPgConnection) {
    diesel::update(events::table.filter(events::retry_after.is_not_null()))
        .set(events::retry_after.eq(diesel::dsl::now))
        .execute(conn)
        .await
        .expect("making events due");
}

/// Moves every waiting event's `queued_at` `by` into the past, as if it had waited that long
/// (a connection's sync delay).
pub async fn age_events(conn: &mut AsyncPgConnection, by: std::time::Duration) {
    let by = diesel::pg::data_types::PgInterval::from_microseconds(
        i64::try_from(by.as_micros()).expect("a duration that fits"),
    );
    diesel::update(events::table.filter(events::status.eq(EventStatus::Queued)))
        .set(events::queued_at.eq(events::queued_at - by))
        .execute(conn)
        .await
        .expect("ageing events");
}

/// Marks the events of one record finished with `status` at `at` (for retention tests).
pub async fn finish_events_of(
    conn: &mut AsyncPgConnection,
    external_id: &str,
    status: EventStatus,
    at: OffsetDateTime,
) {
    diesel::update(events::table.filter(events::external_id.eq(external_id)))
        .set((events::status.eq(status), events::processed_at.eq(at)))
        .execute(conn)
        .await
        .expect("finishing events");
}

/// Moves the audit entries of `action` `by` into the past (for retention tests).
pub async fn age_audit(conn: &mut AsyncPgConnection, action: &str, by: time::Duration) {
    diesel::update(audit_log::table.filter(audit_log::action.eq(action)))
        .set(audit_log::created_at.eq(OffsetDateTime::now_utc() - by))
        .execute(conn)
        .await
        .expect("ageing audit entries");
}

/// Sets when worker `id` was last seen to `by` ago, as if it had stopped then.
pub async fn age_worker(conn: &mut AsyncPgConnection, id: &str, by: time::Duration) {
    diesel::update(workers::table.find(id))
        .set(workers::last_seen_at.eq(OffsetDateTime::now_utc() - by))
        .execute(conn)
        .await
        .expect("ageing a worker");
}

/// Deletes every event.
pub async fn delete_events(conn: &mut AsyncPgConnection) {
    diesel::delete(events::table)
        .execute(conn)
        .await
        .expect("deleting events");
}

/// Deletes a connection with its mapping, id map and events (cascade). `false` when unknown.
pub async fn delete_connection(conn: &mut AsyncPgConnection, id: ConnectionId) -> bool {
    let deleted = diesel::delete(connections::table.find(id))
        .execute(conn)
        .await
        .expect("deleting a connection");
    deleted == 1
}

/// Records success for many events `worker` holds, in one statement (no warnings, no item);
/// returns the ids whose lease was lost. For load tests of the claim.
pub async fn complete_many(
    conn: &mut AsyncPgConnection,
    worker: &str,
    ids: &[EventId],
) -> Vec<EventId> {
    if ids.is_empty() {
        return Vec::new();
    }
    let done: Vec<EventId> = diesel::update(
        events::table
            .filter(events::id.eq_any(ids))
            .filter(events::locked_by.eq(worker))
            .filter(events::status.eq(EventStatus::Processing)),
    )
    .set((
        events::status.eq(EventStatus::Success),
        events::processed_at.eq(diesel::dsl::now),
        events::locked_by.eq(None::<String>),
        events::lease_expires_at.eq(None::<OffsetDateTime>),
        events::error.eq(None::<String>),
    ))
    .returning(events::id)
    .get_results(conn)
    .await
    .expect("completing events");
    ids.iter()
        .copied()
        .filter(|id| !done.contains(id))
        .collect()
}

/// The value of a server setting (`current_setting(name)`), such as `synchronous_commit`, for
/// tools that report the conditions of a measurement.
pub async fn server_setting(conn: &mut AsyncPgConnection, name: &str) -> String {
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    let row: Setting = diesel::sql_query("SELECT current_setting($1) AS value")
        .bind::<diesel::sql_types::Text, _>(name)
        .get_result(conn)
        .await
        .expect("reading a server setting");
    row.value
}
