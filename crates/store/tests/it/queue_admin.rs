//! The queue's figures and housekeeping: depth and oldest age (as KEDA counts them), counts
//! by status, the retention purge, and events deleted with their connection.

use std::time::Duration;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use suiteflow_store::schema::events;
use suiteflow_store::{
    Completion, ConnectionStatus, Enqueued, EventError, EventId, EventKind, EventStatus, NewEvent,
    queue, set_connection_status,
};
use suiteflow_test_support::{TestDb, rows};
use time::OffsetDateTime;

use crate::common;
use crate::queue_support::{LEASE, count_events};

#[tokio::test]
async fn depth_age_and_retention_purge_in_batches() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;
    assert_eq!(
        queue::queue_stats(&mut conn).await.unwrap().oldest_age,
        None
    );

    let batch: Vec<_> = (0..25)
        .map(|i| NewEvent::record(connection, format!("r{i}"), "t", format!("k{i}")))
        .collect();
    queue::enqueue_many(&mut conn, &batch).await.unwrap();
    diesel::update(events::table)
        .set(events::queued_at.eq(OffsetDateTime::now_utc() - time::Duration::minutes(10)))
        .execute(&mut conn)
        .await
        .unwrap();
    let age = queue::queue_stats(&mut conn)
        .await
        .unwrap()
        .oldest_age
        .unwrap();
    assert!(
        age >= Duration::from_secs(599) && age < Duration::from_secs(700),
        "{age:?}"
    );
    assert_eq!(queue::queue_stats(&mut conn).await.unwrap().depth, 25);

    let claimed = queue::claim(&mut conn, "w", 25, LEASE).await.unwrap();
    let ids: Vec<_> = claimed.iter().map(|e| e.id).collect();
    assert!(
        rows::complete_many(&mut conn, "w", &ids[..20])
            .await
            .is_empty()
    );
    for id in &ids[20..] {
        queue::dead_letter(&mut conn, "w", *id, &EventError::text("bad"))
            .await
            .unwrap();
    }
    assert_eq!(queue::queue_stats(&mut conn).await.unwrap().depth, 0);

    // Nothing finished before an hour ago: nothing purged.
    let hour_ago = OffsetDateTime::now_utc() - time::Duration::hours(1);
    assert_eq!(
        queue::purge_finished(&mut conn, hour_ago, 100, true)
            .await
            .unwrap(),
        0
    );
    let soon = OffsetDateTime::now_utc() + time::Duration::seconds(5);
    assert_eq!(
        queue::purge_finished(&mut conn, soon, 7, false)
            .await
            .unwrap(),
        7,
        "one batch"
    );
    assert_eq!(
        queue::purge_finished_all(&mut conn, soon, 7, false)
            .await
            .unwrap(),
        13
    );
    assert_eq!(count_events(&mut conn).await, 5, "dead letters are kept");
    assert_eq!(
        queue::purge_finished_all(&mut conn, soon, 7, true)
            .await
            .unwrap(),
        5
    );
    assert_eq!(count_events(&mut conn).await, 0);
}

#[tokio::test]
async fn deleting_a_connection_deletes_its_events() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;
    let keep = common::connection(&mut conn).await;
    queue::enqueue(&mut conn, &NewEvent::record(connection, "r", "t", "k"))
        .await
        .unwrap();
    queue::enqueue(&mut conn, &NewEvent::record(keep, "r", "t", "k"))
        .await
        .unwrap();
    assert!(rows::delete_connection(&mut conn, connection).await);
    assert_eq!(count_events(&mut conn).await, 1);
}

/// The query KEDA scales the worker on, read from the manifest.
fn keda_query() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/k8s/base/worker-keda.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines().skip_while(|l| l.trim() != "query: >-");
    let indent = |l: &str| l.len() - l.trim_start().len();
    let key = indent(
        lines
            .next()
            .expect("worker-keda.yaml has a `query: >-` block"),
    );
    lines
        .take_while(|l| indent(l) > key && !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn queue_stats_count_what_keda_counts_and_age_every_waiting_event() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    let active = common::connection(&mut conn).await;
    let paused = suiteflow_store::create_connection(&mut conn, &common::new_connection("paused"))
        .await
        .unwrap()
        .id;
    let batch: Vec<_> = (0..8)
        .map(|i| NewEvent::record(active, format!("r{i}"), "t", format!("k{i}")))
        .collect();
    queue::enqueue_many(&mut conn, &batch).await.unwrap();
    queue::enqueue(&mut conn, &NewEvent::record(paused, "p", "t", "kp"))
        .await
        .unwrap();
    set_connection_status(&mut conn, paused, ConnectionStatus::Paused)
        .await
        .unwrap();
    // Of the 8: one in flight, one done, one failed and due, one failed for later, one
    // released for later (as after a 429), three queued.
    let claimed = queue::claim(&mut conn, "w", 5, LEASE).await.unwrap();
    let now = OffsetDateTime::now_utc();
    queue::complete(&mut conn, "w", claimed[1].id, &Completion::default())
        .await
        .unwrap();
    queue::fail(
        &mut conn,
        "w",
        claimed[2].id,
        &EventError::text("500"),
        now - time::Duration::seconds(1),
    )
    .await
    .unwrap();
    queue::fail(
        &mut conn,
        "w",
        claimed[3].id,
        &EventError::text("500"),
        now + time::Duration::hours(1),
    )
    .await
    .unwrap();
    queue::release(
        &mut conn,
        "w",
        claimed[4].id,
        Some(now + time::Duration::hours(1)),
        None,
    )
    .await
    .unwrap();

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::Int8)]
        n: i64,
    }
    let keda: Count = diesel::sql_query(format!("SELECT ({}) AS n", keda_query()))
        .get_result(&mut conn)
        .await
        .unwrap();
    let stats = queue::queue_stats(&mut conn).await.unwrap();
    assert_eq!(stats.depth, 4, "three queued and one failed, all due");
    assert_eq!(keda.n, stats.depth, "KEDA's query: {}", keda_query());

    // The oldest waiting event counts while it waits for its retry: a sync failing through an
    // outage is behind, and the age shows it. The paused connection's old event does not.
    for (id, age) in [(claimed[3].id, 3_600), (claimed[2].id, 60)] {
        diesel::update(events::table.find(id))
            .set(events::queued_at.eq(now - time::Duration::seconds(age)))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    diesel::update(events::table.filter(events::connection_id.eq(paused)))
        .set(events::queued_at.eq(now - time::Duration::days(1)))
        .execute(&mut conn)
        .await
        .unwrap();
    let age = queue::queue_stats(&mut conn)
        .await
        .unwrap()
        .oldest_age
        .unwrap();
    assert!(
        age >= Duration::from_secs(3_600) && age < Duration::from_secs(3_700),
        "{age:?}"
    );
}

#[tokio::test]
async fn counts_by_status_of_one_connection_and_kind_and_of_stored_ids() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;
    let other = common::connection(&mut conn).await;
    let mut ids = Vec::new();
    for key in ["k1", "k2"] {
        let event = NewEvent::record(connection, "r", "record_updated", key);
        let Enqueued::Inserted(id) = queue::enqueue(&mut conn, &event).await.unwrap() else {
            panic!("{key} was new")
        };
        ids.push(id);
    }
    queue::enqueue(&mut conn, &NewEvent::pull(connection, "wh", "p"))
        .await
        .unwrap();
    queue::enqueue(
        &mut conn,
        &NewEvent::record(other, "r", "record_updated", "k1"),
    )
    .await
    .unwrap();

    assert_eq!(
        queue::count_by_status_of(&mut conn, connection, None)
            .await
            .unwrap(),
        vec![(EventStatus::Queued, 3)]
    );
    assert_eq!(
        queue::count_by_status_of(&mut conn, connection, Some(EventKind::Record))
            .await
            .unwrap(),
        vec![(EventStatus::Queued, 2)]
    );

    let never_stored = EventId(uuid::Uuid::new_v4());
    ids.push(never_stored);
    assert_eq!(rows::count_stored(&mut conn, &ids).await, 2);
    assert_eq!(rows::count_stored(&mut conn, &[]).await, 0);
}
