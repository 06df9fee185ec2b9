use std::time::Duration;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::json;
use suiteflow_store::schema::events;
use suiteflow_store::{
    AsyncPgConnection, Completion, ConnectionStatus, Enqueued, EventError, EventId, EventKind,
    EventStatus, NewEvent, StoreError, queue, set_connection_status,
};
use suiteflow_test_support::{TestDb, rows};
use time::OffsetDateTime;

use crate::common;

const LEASE: Duration = Duration::from_secs(60);

async fn count_events(conn: &mut AsyncPgConnection) -> i64 {
    events::table.count().get_result(conn).await.unwrap()
}

async fn status_of(conn: &mut AsyncPgConnection, id: EventId) -> EventStatus {
    queue::get_event(conn, id).await.unwrap().unwrap().status
}

#[tokio::test]
async fn a_duplicate_enqueue_returns_the_original_and_inserts_nothing() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;

    let event = NewEvent::record(connection, "rec-1", "record_updated", "key-1")
        .with_payload(json!({"record_id": "rec-1", "data": {"title": "a"}}));
    let first = queue::enqueue(&mut conn, &event).await.unwrap();
    let Enqueued::Inserted(original) = first else {
        panic!("first enqueue: {first:?}")
    };

    // Same key, different payload: still a duplicate of the first.
    let again = event.clone().with_payload(json!({"other": true}));
    assert_eq!(
        queue::enqueue(&mut conn, &again).await.unwrap(),
        Enqueued::Duplicate(original)
    );
    assert_eq!(count_events(&mut conn).await, 1);
    let stored = queue::get_event(&mut conn, original)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.payload["data"]["title"], "a");
    assert_eq!(stored.status, EventStatus::Queued);

    // The key is unique per connection only.
    let other_connection = common::connection(&mut conn).await;
    let elsewhere = NewEvent {
        connection_id: other_connection,
        ..event.clone()
    };
    assert!(matches!(
        queue::enqueue(&mut conn, &elsewhere).await.unwrap(),
        Enqueued::Inserted(_)
    ));
    assert_eq!(count_events(&mut conn).await, 2);
}

#[tokio::test]
async fn a_batched_enqueue_reports_each_event_and_duplicates_within_the_batch() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;
    let existing = queue::enqueue(&mut conn, &NewEvent::record(connection, "r0", "t", "k0"))
        .await
        .unwrap()
        .id();

    let batch = vec![
        NewEvent::record(connection, "r1", "t", "k1"),
        NewEvent::record(connection, "r0", "t", "k0"), // duplicate of an existing event
        NewEvent::record(connection, "r2", "t", "k2"),
        NewEvent::record(connection, "r1", "t", "k1"), // duplicate within the batch
        NewEvent::pull(connection, "wh", "p1"),
        NewEvent::pull(connection, "wh", "p2"), // a second pending pull
    ];
    let results = queue::enqueue_many(&mut conn, &batch).await.unwrap();
    assert_eq!(results.len(), 6);
    let Enqueued::Inserted(k1) = results[0] else {
        panic!("{results:?}")
    };
    assert_eq!(results[1], Enqueued::Duplicate(existing));
    assert!(matches!(results[2], Enqueued::Inserted(_)));
    assert_eq!(results[3], Enqueued::Duplicate(k1));
    let Enqueued::Inserted(pull) = results[4] else {
        panic!("{results:?}")
    };
    assert_eq!(results[5], Enqueued::Duplicate(pull));
    assert_eq!(count_events(&mut conn).await, 4);
    assert!(
        queue::enqueue_many(&mut conn, &[])
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn at_most_one_pull_is_pending_per_connection_but_one_may_queue_behind_a_running_pull() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;

    let first = queue::enqueue(&mut conn, &NewEvent::pull(connection, "wh", "n1"))
        .await
        .unwrap();
    let second = queue::enqueue(&mut conn, &NewEvent::pull(connection, "wh", "n2"))
        .await
        .unwrap();
    assert_eq!(second, Enqueued::Duplicate(first.id()));

    let claimed = queue::claim(&mut conn, "w1", 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 1);
    // The running pull may have read the cursor already: a new notification queues another.
    let third = queue::enqueue(&mut conn, &NewEvent::pull(connection, "wh", "n3"))
        .await
        .unwrap();
    let Enqueued::Inserted(third) = third else {
        panic!("{third:?}")
    };
    // Only one pull is in flight per connection.
    assert!(
        queue::claim(&mut conn, "w2", 10, LEASE)
            .await
            .unwrap()
            .is_empty()
    );

    // Failing the running pull would make two pending pulls: it is skipped instead.
    let status = queue::fail(
        &mut conn,
        "w1",
        first.id(),
        &EventError::text("timeout"),
        OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    assert_eq!(status, EventStatus::Skipped);
    assert_eq!(status_of(&mut conn, third).await, EventStatus::Queued);
}

#[tokio::test]
async fn claim_sets_the_lease_and_outcomes_are_recorded() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;
    let mut ids = Vec::new();
    for i in 0..4 {
        let e = NewEvent::record(
            connection,
            format!("r{i}"),
            "record_updated",
            format!("k{i}"),
        );
        ids.push(queue::enqueue(&mut conn, &e).await.unwrap().id());
    }

    let claimed = queue::claim(&mut conn, "w1", 3, LEASE).await.unwrap();
    assert_eq!(
        claimed.iter().map(|e| e.id).collect::<Vec<_>>(),
        ids[..3],
        "queue order"
    );
    for e in &claimed {
        assert_eq!(e.status, EventStatus::Processing);
        assert_eq!(e.attempts, 1);
        assert_eq!(e.locked_by.as_deref(), Some("w1"));
        let lease_left = e.lease_expires_at.unwrap() - OffsetDateTime::now_utc();
        assert!(lease_left > time::Duration::seconds(50), "{lease_left}");
    }

    let done = Completion {
        webflow_item_id: Some("item-1".into()),
        webflow_response: Some(json!({"id": "item-1"})),
        warnings: vec!["price: not a number".into()],
    };
    queue::complete(&mut conn, "w1", ids[0], &done)
        .await
        .unwrap();
    let e = queue::get_event(&mut conn, ids[0]).await.unwrap().unwrap();
    assert_eq!(e.status, EventStatus::Success);
    assert!(e.partial_success);
    assert_eq!(e.warnings, Some(json!(["price: not a number"])));
    assert_eq!(e.webflow_item_id.as_deref(), Some("item-1"));
    assert!(e.locked_by.is_none() && e.lease_expires_at.is_none());
    assert!(e.processed_at.is_some() && e.duration_ms.is_some());

    queue::dead_letter(
        &mut conn,
        "w1",
        ids[1],
        &EventError::text("400 validation_error"),
    )
    .await
    .unwrap();
    let e = queue::get_event(&mut conn, ids[1]).await.unwrap().unwrap();
    assert_eq!(
        (e.status, e.error.as_deref()),
        (EventStatus::DeadLetter, Some("400 validation_error"))
    );

    // release puts the event back without spending the attempt.
    assert_eq!(
        queue::release(&mut conn, "w1", ids[2], None, None)
            .await
            .unwrap(),
        EventStatus::Queued
    );
    let e = queue::get_event(&mut conn, ids[2]).await.unwrap().unwrap();
    assert_eq!(
        (e.status, e.attempts, e.locked_by),
        (EventStatus::Queued, 0, None)
    );

    // A finished event cannot be completed again, by anyone.
    let err = queue::complete(&mut conn, "w1", ids[0], &Completion::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::LeaseLost { event } if event == ids[0]),
        "{err:?}"
    );

    // Batched completion reports the ids it could not complete.
    let claimed = queue::claim(&mut conn, "w2", 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let lost = rows::complete_many(&mut conn, "w2", &[ids[2], ids[3], ids[0]]).await;
    assert_eq!(lost, vec![ids[0]]);
    assert_eq!(status_of(&mut conn, ids[3]).await, EventStatus::Success);

    // A dead letter replayed by an operator is queued again with fresh attempts.
    assert!(queue::requeue(&mut conn, ids[1]).await.unwrap());
    let e = queue::get_event(&mut conn, ids[1]).await.unwrap().unwrap();
    assert_eq!((e.status, e.attempts), (EventStatus::Queued, 0));
    assert!(
        !queue::requeue(&mut conn, ids[1]).await.unwrap(),
        "already queued"
    );
}

#[tokio::test]
async fn an_expired_lease_is_reclaimed_and_the_first_owner_is_refused() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;
    let id = queue::enqueue(&mut conn, &NewEvent::record(connection, "r", "t", "k"))
        .await
        .unwrap()
        .id();

    // A lease that is over as soon as the claim commits: no waiting needed.
    let first = queue::claim(&mut conn, "w1", 1, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    let second = queue::claim(&mut conn, "w2", 1, LEASE).await.unwrap();
    assert_eq!(second.iter().map(|e| e.id).collect::<Vec<_>>(), vec![id]);
    assert_eq!(second[0].attempts, 2);
    assert_eq!(second[0].locked_by.as_deref(), Some("w2"));

    // A live lease is not taken over.
    assert!(
        queue::claim(&mut conn, "w3", 1, LEASE)
            .await
            .unwrap()
            .is_empty()
    );

    // Every outcome of the first owner is refused and changes nothing.
    let now = OffsetDateTime::now_utc();
    for refused in [
        queue::complete(&mut conn, "w1", id, &Completion::default())
            .await
            .map(|_| ()),
        queue::fail(&mut conn, "w1", id, &EventError::text("late"), now)
            .await
            .map(|_| ()),
        queue::dead_letter(&mut conn, "w1", id, &EventError::text("late")).await,
        queue::release(&mut conn, "w1", id, None, None)
            .await
            .map(|_| ()),
        queue::extend_lease(&mut conn, "w1", id, LEASE)
            .await
            .map(|_| ()),
    ] {
        assert!(
            matches!(refused, Err(StoreError::LeaseLost { .. })),
            "{refused:?}"
        );
    }
    let e = queue::get_event(&mut conn, id).await.unwrap().unwrap();
    assert_eq!(
        (e.status, e.locked_by.as_deref(), e.error),
        (EventStatus::Processing, Some("w2"), None)
    );

    queue::complete(&mut conn, "w2", id, &Completion::default())
        .await
        .unwrap();
    assert_eq!(status_of(&mut conn, id).await, EventStatus::Success);
}

#[tokio::test]
async fn a_failed_event_is_not_claimed_before_its_retry_after() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;
    let id = queue::enqueue(&mut conn, &NewEvent::record(connection, "r", "t", "k"))
        .await
        .unwrap()
        .id();

    assert_eq!(
        queue::claim(&mut conn, "w1", 1, LEASE).await.unwrap().len(),
        1
    );
    let later = OffsetDateTime::now_utc() + time::Duration::hours(1);
    let status = queue::fail(
        &mut conn,
        "w1",
        id,
        &EventError::text("503 from Webflow"),
        later,
    )
    .await
    .unwrap();
    assert_eq!(status, EventStatus::Failed);
    assert!(
        queue::claim(&mut conn, "w2", 10, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        queue::queue_stats(&mut conn).await.unwrap().depth,
        0,
        "a failed event is not ready before its retry time"
    );

    // Move the retry time into the past: due now.
    diesel::update(events::table.find(id))
        .set(events::retry_after.eq(OffsetDateTime::now_utc() - time::Duration::seconds(1)))
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        queue::queue_stats(&mut conn).await.unwrap().depth,
        1,
        "a failed event is ready once its retry is due"
    );
    let claimed = queue::claim(&mut conn, "w2", 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        (claimed[0].attempts, claimed[0].error.as_deref()),
        (2, Some("503 from Webflow"))
    );

    // A release with a retry time (a 429) is honoured the same way.
    let later = OffsetDateTime::now_utc() + time::Duration::hours(1);
    queue::release(&mut conn, "w2", id, Some(later), None)
        .await
        .unwrap();
    assert!(
        queue::claim(&mut conn, "w3", 10, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    let e = queue::get_event(&mut conn, id).await.unwrap().unwrap();
    assert_eq!((e.status, e.attempts), (EventStatus::Queued, 1));
}

#[tokio::test]
async fn an_older_event_of_a_record_with_a_newer_one_is_skipped() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let e = NewEvent::record(connection, "same-record", "record_updated", format!("k{i}"));
        ids.push(queue::enqueue(&mut conn, &e).await.unwrap().id());
    }
    let other = queue::enqueue(&mut conn, &NewEvent::record(connection, "other", "t", "ko"))
        .await
        .unwrap()
        .id();

    let claimed = queue::claim(&mut conn, "w1", 10, LEASE).await.unwrap();
    let mut claimed_ids: Vec<_> = claimed.iter().map(|e| e.id).collect();
    claimed_ids.sort();
    let mut expected = vec![ids[2], other];
    expected.sort();
    assert_eq!(
        claimed_ids, expected,
        "only the newest event of the record is processed"
    );
    assert_eq!(status_of(&mut conn, ids[0]).await, EventStatus::Skipped);
    assert_eq!(status_of(&mut conn, ids[1]).await, EventStatus::Skipped);

    // While the newest is in flight, a newer one waits (never two in flight) ...
    let newer = queue::enqueue(
        &mut conn,
        &NewEvent::record(connection, "same-record", "t", "k3"),
    )
    .await
    .unwrap()
    .id();
    assert!(
        queue::claim(&mut conn, "w2", 10, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    // ... and is claimed once the one in flight is done.
    queue::complete(&mut conn, "w1", ids[2], &Completion::default())
        .await
        .unwrap();
    let claimed = queue::claim(&mut conn, "w2", 10, LEASE).await.unwrap();
    assert_eq!(
        claimed.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![newer]
    );
}

#[tokio::test]
async fn events_of_connections_that_are_not_active_wait() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;
    queue::enqueue(&mut conn, &NewEvent::record(connection, "r", "t", "k"))
        .await
        .unwrap();

    for status in [
        ConnectionStatus::Paused,
        ConnectionStatus::Error,
        ConnectionStatus::Archived,
    ] {
        set_connection_status(&mut conn, connection, status)
            .await
            .unwrap();
        assert!(
            queue::claim(&mut conn, "w", 10, LEASE)
                .await
                .unwrap()
                .is_empty(),
            "{status}"
        );
        assert_eq!(queue::queue_stats(&mut conn).await.unwrap().depth, 0);
    }
    set_connection_status(&mut conn, connection, ConnectionStatus::Active)
        .await
        .unwrap();
    assert_eq!(queue::queue_stats(&mut conn).await.unwrap().depth, 1);
    assert_eq!(
        queue::claim(&mut conn, "w", 10, LEASE).await.unwrap().len(),
        1
    );
}

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
