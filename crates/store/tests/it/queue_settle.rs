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
