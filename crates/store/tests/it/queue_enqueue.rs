//! Enqueueing: idempotency keys deduplicate, one at a time and in batches, and at most one
//! pull waits per connection.

use serde_json::json;
use suiteflow_store::{Enqueued, EventError, EventStatus, NewEvent, queue};
use suiteflow_test_support::TestDb;
use time::OffsetDateTime;

use crate::common;
use crate::queue_support::{LEASE, count_events, status_of};

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
