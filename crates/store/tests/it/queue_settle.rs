//! Settling claimed events: complete, fail, release and dead-letter, each fenced by the lease
//! so that an owner whose lease was taken over changes nothing.

use std::time::Duration;

use serde_json::json;
use suiteflow_store::{Completion, EventError, EventStatus, NewEvent, StoreError, queue};
use suiteflow_test_support::{TestDb, rows};
use time::OffsetDateTime;

use crate::common;
use crate::queue_support::{LEASE, status_of};

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
    ] {
        assert!(
            matches!(refused, Err(StoreError::LeaseLost { .. })),
            "{refused:?}"
        );
    }
    assert_eq!(
        queue::extend_leases(&mut conn, "w1", &[id], LEASE)
            .await
            .unwrap(),
        0,
        "nor is its lease extended"
    );
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

/// Counts the statements a connection sends.
fn count_statements(
    conn: &mut diesel_async::AsyncPgConnection,
) -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
    use diesel::connection::InstrumentationEvent;
    use diesel_async::AsyncConnection;
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = std::sync::Arc::clone(&count);
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if matches!(event, InstrumentationEvent::StartQuery { .. }) {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    count
}

/// Claims `n` events of `connection` (records `prefix0…`) for `worker`.
async fn claimed(
    conn: &mut diesel_async::AsyncPgConnection,
    connection: suiteflow_store::ConnectionId,
    prefix: &str,
    n: usize,
    worker: &str,
) -> Vec<suiteflow_store::EventId> {
    let events: Vec<NewEvent> = (0..n)
        .map(|i| {
            NewEvent::record(
                connection,
                format!("{prefix}{i}"),
                "t",
                format!("{prefix}k{i}"),
            )
        })
        .collect();
    queue::enqueue_many(conn, &events).await.unwrap();
    queue::claim(conn, worker, n as u32, LEASE)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect()
}

#[tokio::test]
async fn a_batch_of_mixed_outcomes_is_recorded_in_one_statement() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;
    let ids = claimed(&mut conn, connection, "r", 5, "w").await;
    assert_eq!(ids.len(), 5);
    let later = OffsetDateTime::now_utc() + time::Duration::minutes(5);
    let outcomes = vec![
        (
            ids[0],
            queue::Settlement::Complete(Completion {
                webflow_item_id: Some("item-0".into()),
                webflow_response: Some(json!({"id": "item-0"})),
                warnings: vec!["price: not a number".into()],
            }),
        ),
        (
            ids[1],
            queue::Settlement::Fail {
                message: "Webflow answered 500".into(),
                detail: Some(json!({"status": 500})),
                retry_after: later,
            },
        ),
        (
            ids[2],
            queue::Settlement::Release {
                why: Some(("the Webflow budget is spent".into(), None)),
                retry_after: Some(later),
            },
        ),
        (
            ids[3],
            queue::Settlement::DeadLetter {
                message: "Webflow answered 400".into(),
                detail: Some(json!({"status": 400})),
            },
        ),
        (
            ids[4],
            queue::Settlement::Skip {
                reason: "older than the state already written".into(),
            },
        ),
    ];
    let statements = count_statements(&mut conn);
    let settled = queue::settle(&mut conn, "w", &outcomes).await.unwrap();
    assert_eq!(
        statements.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one round trip for the batch"
    );
    let expected = [
        EventStatus::Success,
        EventStatus::Failed,
        EventStatus::Queued,
        EventStatus::DeadLetter,
        EventStatus::Skipped,
    ];
    for (id, status) in ids.iter().zip(expected) {
        assert_eq!(settled.status(*id), Some(status));
        let e = queue::get_event(&mut conn, *id).await.unwrap().unwrap();
        assert_eq!(e.status, status, "{e:?}");
        assert_eq!(e.locked_by, None);
    }
    let done = queue::get_event(&mut conn, ids[0]).await.unwrap().unwrap();
    assert_eq!(done.webflow_item_id.as_deref(), Some("item-0"));
    assert!(done.partial_success);
    assert_eq!(done.error, None);
    assert!(done.processed_at.is_some());
    let failed = queue::get_event(&mut conn, ids[1]).await.unwrap().unwrap();
    assert_eq!(failed.attempts, 1, "a failure spends its attempt");
    assert!(
        failed
            .retry_after
            .is_some_and(|t| (t - later).abs() < time::Duration::seconds(1))
    );
    assert_eq!(failed.error_detail, Some(json!({"status": 500})));
    assert_eq!(failed.processed_at, None);
    let released = queue::get_event(&mut conn, ids[2]).await.unwrap().unwrap();
    assert_eq!(released.attempts, 0, "a release refunds the attempt");
    assert_eq!(
        released.error.as_deref(),
        Some("the Webflow budget is spent")
    );
    let dead = queue::get_event(&mut conn, ids[3]).await.unwrap().unwrap();
    assert_eq!(dead.error_detail, Some(json!({"status": 400})));
    assert!(dead.processed_at.is_some() && dead.duration_ms.is_some());
    let skipped = queue::get_event(&mut conn, ids[4]).await.unwrap().unwrap();
    assert_eq!(
        skipped.error.as_deref(),
        Some("older than the state already written")
    );
    assert!(skipped.processed_at.is_some() && skipped.duration_ms.is_some());
}

#[tokio::test]
async fn a_batch_with_one_lease_taken_over_records_the_others_and_refuses_that_one() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;
    let ids = claimed(&mut conn, connection, "r", 3, "w1").await;
    // The lease of the second expires and another worker takes it over.
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query(
            "UPDATE events SET lease_expires_at = now() - interval '1 second' WHERE id = $1",
        )
        .bind::<diesel::sql_types::Uuid, _>(ids[1].0),
        &mut conn,
    )
    .await
    .unwrap();
    let taken = queue::claim(&mut conn, "w2", 10, LEASE).await.unwrap();
    assert_eq!(taken.iter().map(|e| e.id).collect::<Vec<_>>(), vec![ids[1]]);

    let outcomes: Vec<_> = ids
        .iter()
        .map(|id| (*id, queue::Settlement::Complete(Completion::default())))
        .collect();
    let settled = queue::settle(&mut conn, "w1", &outcomes).await.unwrap();
    assert_eq!(settled.status(ids[0]), Some(EventStatus::Success));
    assert_eq!(settled.status(ids[1]), None, "refused: w2 holds it");
    assert_eq!(settled.status(ids[2]), Some(EventStatus::Success));
    let e = queue::get_event(&mut conn, ids[1]).await.unwrap().unwrap();
    assert_eq!(
        (e.status, e.locked_by.as_deref()),
        (EventStatus::Processing, Some("w2"))
    );
}

#[tokio::test]
async fn a_pull_given_back_while_another_pull_waits_is_skipped_by_the_batch() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;
    let first = queue::enqueue(&mut conn, &NewEvent::pull(connection, "wh", "p1"))
        .await
        .unwrap()
        .id();
    let claimed = queue::claim(&mut conn, "w", 10, LEASE).await.unwrap();
    assert_eq!(
        claimed.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![first]
    );
    // A new notification queues the next pull while the first is in flight.
    let second = queue::enqueue(&mut conn, &NewEvent::pull(connection, "wh", "p2"))
        .await
        .unwrap()
        .id();
    let outcomes = vec![(
        first,
        queue::Settlement::Release {
            why: Some(("the SmartSuite budget is spent".into(), None)),
            retry_after: None,
        },
    )];
    let settled = queue::settle(&mut conn, "w", &outcomes).await.unwrap();
    // The waiting pull reads from the same cursor: the first is skipped, not queued twice.
    assert_eq!(settled.status(first), Some(EventStatus::Skipped));
    assert_eq!(status_of(&mut conn, second).await, EventStatus::Queued);
    let skipped = queue::get_event(&mut conn, first).await.unwrap().unwrap();
    assert!(skipped.processed_at.is_some());
}
