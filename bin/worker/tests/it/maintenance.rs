//! Housekeeping: keep-alive pulls for SmartSuite webhooks and the retention purge.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use suiteflow_store::schema::events;
use suiteflow_store::{EventKind, EventStatus, NewEvent};

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_not_pulled_for_a_day_gets_a_keep_alive_pull_once() {
    let p = Pipeline::start().await;
    let store = p.store().await;
    let mut conn = store.get().await.unwrap();
    let changes = suiteflow_store::ConnectionChanges {
        smartsuite_webhook_id: Some(Some("wh-1".into())),
        ..Default::default()
    };
    suiteflow_store::update_connection(&mut conn, p.connection, &changes)
        .await
        .unwrap();

    p.worker.maintenance().await.unwrap();
    p.worker.maintenance().await.unwrap();
    let pulls: Vec<(EventKind, String, EventStatus)> = events::table
        .select((events::kind, events::event_type, events::status))
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        pulls,
        vec![(
            EventKind::Pull,
            "keep_alive".to_string(),
            EventStatus::Queued
        )]
    );

    // Pulled recently: nothing more to do.
    suiteflow_store::record_keep_alive(&mut conn, p.connection, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    diesel::delete(events::table)
        .execute(&mut conn)
        .await
        .unwrap();
    p.worker.maintenance().await.unwrap();
    let count: i64 = events::table.count().get_result(&mut conn).await.unwrap();
    assert_eq!(count, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn finished_events_past_retention_are_purged_and_dead_letters_kept() {
    let p = Pipeline::start().await;
    let store = p.store().await;
    let mut conn = store.get().await.unwrap();
    let new: Vec<NewEvent> = (0..3)
        .map(|i| {
            NewEvent::record(
                p.connection,
                format!("r{i}"),
                "record_updated",
                format!("k{i}"),
            )
        })
        .collect();
    suiteflow_store::queue::enqueue_many(&mut conn, &new)
        .await
        .unwrap();
    let old = time::OffsetDateTime::now_utc() - time::Duration::days(30);
    // r0 finished long ago, r1 dead-lettered long ago, r2 finished just now.
    for (record, status, at) in [
        ("r0", EventStatus::Success, old),
        ("r1", EventStatus::DeadLetter, old),
        ("r2", EventStatus::Success, time::OffsetDateTime::now_utc()),
    ] {
        diesel::update(events::table.filter(events::external_id.eq(record)))
            .set((events::status.eq(status), events::processed_at.eq(at)))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    p.worker.maintenance().await.unwrap();
    let mut left: Vec<String> = events::table
        .select(events::external_id)
        .load(&mut conn)
        .await
        .unwrap();
    left.sort();
    assert_eq!(left, ["r1", "r2"]);
}
