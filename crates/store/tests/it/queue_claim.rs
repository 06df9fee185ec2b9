//! Claiming: only due events of active connections, never two of one record, and older
//! events of a record superseded by a newer one.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use suiteflow_store::schema::events;
use suiteflow_store::{
    Completion, ConnectionId, ConnectionStatus, EventError, EventStatus, NewEvent, queue,
    set_connection_status,
};
use suiteflow_test_support::TestDb;
use time::OffsetDateTime;

use crate::common;
use crate::queue_support::{LEASE, status_of};

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
async fn a_record_is_claimed_once_it_has_been_quiet_for_the_sync_delay() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    let delayed = suiteflow_store::create_connection(
        &mut conn,
        &suiteflow_store::NewConnection {
            sync_delay_ms: 60_000,
            ..common::new_connection("delayed")
        },
    )
    .await
    .unwrap()
    .id;
    let at_once = common::connection(&mut conn).await;
    let first = queue::enqueue(&mut conn, &NewEvent::record(delayed, "r", "t", "k1"))
        .await
        .unwrap()
        .id();
    queue::enqueue(&mut conn, &NewEvent::record(at_once, "r", "t", "k1"))
        .await
        .unwrap();
    queue::enqueue(&mut conn, &NewEvent::pull(delayed, "wh", "p1"))
        .await
        .unwrap();
    // The connection without a delay and the pull go at once; the delayed record waits.
    let claimed = queue::claim(&mut conn, "w", 10, LEASE).await.unwrap();
    let mut got: Vec<_> = claimed
        .iter()
        .map(|e| (e.connection_id == delayed, e.kind.as_str()))
        .collect();
    got.sort();
    assert_eq!(got, [(false, "record"), (true, "pull")]);
    assert_eq!(queue::queue_stats(&mut conn).await.unwrap().depth, 0);

    // Half the delay later the record is saved again: its newest event starts the wait over.
    age(&mut conn, first, 30).await;
    let second = queue::enqueue(&mut conn, &NewEvent::record(delayed, "r", "t", "k2"))
        .await
        .unwrap()
        .id();
    age(&mut conn, first, 61).await;
    age(&mut conn, second, 30).await;
    let claim = queue::claim_batch(&mut conn, "w", 10, LEASE).await.unwrap();
    assert!(claim.events.is_empty(), "{claim:?}");
    assert_eq!(
        claim.superseded.iter().map(|e| e.id).collect::<Vec<_>>(),
        [first],
        "the claim tells what it skipped"
    );
    assert_eq!(
        status_of(&mut conn, first).await,
        EventStatus::Skipped,
        "the older save is superseded"
    );
    age(&mut conn, second, 61).await;
    assert_eq!(queue::queue_stats(&mut conn).await.unwrap().depth, 1);
    let claimed = queue::claim(&mut conn, "w", 10, LEASE).await.unwrap();
    assert_eq!(claimed.iter().map(|e| e.id).collect::<Vec<_>>(), [second]);
}

/// Sets an event's `queued_at` to `seconds` ago.
async fn age(
    conn: &mut suiteflow_store::AsyncPgConnection,
    id: suiteflow_store::EventId,
    seconds: i64,
) {
    diesel::update(events::table.find(id))
        .set(events::queued_at.eq(OffsetDateTime::now_utc() - time::Duration::seconds(seconds)))
        .execute(conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn claims_take_work_round_robin_across_connections() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    let busy = common::connection(&mut conn).await;
    let quiet = common::connection(&mut conn).await;
    let backlog: Vec<NewEvent> = (0..50)
        .map(|i| NewEvent::record(busy, format!("b{i}"), "t", format!("kb{i}")))
        .collect();
    queue::enqueue_many(&mut conn, &backlog).await.unwrap();
    // The quiet connection's one change arrives after the whole backlog.
    queue::enqueue(&mut conn, &NewEvent::record(quiet, "q", "t", "kq"))
        .await
        .unwrap();

    let claimed = queue::claim(&mut conn, "w", 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 10);
    assert!(
        claimed.iter().any(|e| e.connection_id == quiet),
        "the quiet connection's change waited behind the backlog"
    );
    // The rest of the batch is the backlog, oldest first.
    let ids: Vec<&str> = claimed
        .iter()
        .filter(|e| e.connection_id == busy)
        .map(|e| e.external_id.as_str())
        .collect();
    assert_eq!(ids, ["b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8"]);
}

#[tokio::test]
async fn a_connection_whose_webflow_budget_is_closed_waits_unclaimed_and_uncounted() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    let spent = common::connection(&mut conn).await;
    let other = common::connection(&mut conn).await;
    suiteflow_store::set_fingerprints(&mut conn, spent, "tokenfp", "keyfp")
        .await
        .unwrap();
    let held = queue::enqueue(&mut conn, &NewEvent::record(spent, "s", "t", "ks"))
        .await
        .unwrap()
        .id();
    queue::enqueue(&mut conn, &NewEvent::pull(spent, "p1", "kp"))
        .await
        .unwrap();
    queue::enqueue(&mut conn, &NewEvent::record(other, "o", "t", "ko"))
        .await
        .unwrap();
    // Webflow answered 429 for the spent connection's token.
    let token = suiteflow_store::bucket::webflow_token("tokenfp");
    let rate = suiteflow_store::Rate::per_minute(60);
    suiteflow_store::take(&mut conn, &token, 1, rate)
        .await
        .unwrap();
    let until = OffsetDateTime::now_utc() + time::Duration::minutes(1);
    suiteflow_store::pause(&mut conn, &token, until)
        .await
        .unwrap();

    assert_eq!(
        queue::queue_stats(&mut conn).await.unwrap().depth,
        2,
        "the depth counts the other connection's event and the pull, not the record event"
    );
    let claimed = queue::claim(&mut conn, "w", 10, LEASE).await.unwrap();
    let mut got: Vec<(ConnectionId, &str)> = claimed
        .iter()
        .map(|e| (e.connection_id, e.external_id.as_str()))
        .collect();
    got.sort();
    let mut expected = vec![(spent, "p1"), (other, "o")];
    expected.sort();
    assert_eq!(got, expected, "a pull needs no Webflow budget");
    assert_eq!(
        status_of(&mut conn, held).await,
        EventStatus::Queued,
        "not claimed, not put back: still queued, its attempts unspent"
    );
    // A worker that found nothing knows when to look again: when the pause ends.
    let opens = queue::budget_opens_at(&mut conn).await.unwrap();
    assert!(
        opens.is_some_and(|at| (at - until).abs() < time::Duration::milliseconds(1)),
        "{opens:?}, paused until {until}"
    );

    // The pause over, the event is claimed.
    diesel::sql_query("UPDATE rate_buckets SET paused_until = now() - interval '1 second'")
        .execute(&mut conn)
        .await
        .unwrap();
    let claimed = queue::claim(&mut conn, "w", 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].external_id, "s");
    assert_eq!(claimed[0].attempts, 1);
    assert_eq!(
        queue::budget_opens_at(&mut conn).await.unwrap(),
        None,
        "no connection waits for its budget"
    );
}
