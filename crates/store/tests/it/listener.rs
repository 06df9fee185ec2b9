use std::time::Duration;

use suiteflow_store::{Listener, NewEvent, Wakeup, queue};
use suiteflow_test_support::TestDb;

use crate::common;

#[tokio::test]
async fn an_enqueue_wakes_a_listener_and_silence_times_out() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;
    let mut listener = Listener::connect(db.url()).await.unwrap();

    assert_eq!(
        listener.wait(Duration::from_millis(100)).await.unwrap(),
        Wakeup::TimedOut
    );

    // A notification that arrives before the wait is not lost.
    queue::enqueue(&mut conn, &NewEvent::record(connection, "r", "t", "k1"))
        .await
        .unwrap();
    assert_eq!(
        listener.wait(Duration::from_secs(5)).await.unwrap(),
        Wakeup::Notified
    );

    // One arriving during the wait ends it. The wait is known to have begun before the
    // notification was sent (the task has started, and is still waiting when it is sent),
    // and to have ended because of it, not by its ten-second timeout.
    let (began_tx, began) = tokio::sync::oneshot::channel();
    let waiting = tokio::spawn(async move {
        began_tx.send(()).unwrap();
        let wakeup = listener.wait(Duration::from_secs(10)).await.unwrap();
        (wakeup, std::time::Instant::now(), listener)
    });
    began.await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !waiting.is_finished(),
        "the wait ended before any notification"
    );
    let sent = std::time::Instant::now();
    queue::enqueue(&mut conn, &NewEvent::record(connection, "r", "t", "k2"))
        .await
        .unwrap();
    let (wakeup, ended, mut listener) = waiting.await.unwrap();
    assert_eq!(wakeup, Wakeup::Notified);
    assert!(sent <= ended, "woken before the notification was sent");
    assert!(ended - sent < Duration::from_secs(5), "{:?}", ended - sent);

    // A duplicate may wake a worker for nothing (harmless); the listener keeps working.
    queue::enqueue(&mut conn, &NewEvent::record(connection, "r", "t", "k2"))
        .await
        .unwrap();
    listener.wait(Duration::from_millis(200)).await.unwrap();
    assert_eq!(
        listener.wait(Duration::from_millis(100)).await.unwrap(),
        Wakeup::TimedOut
    );
}

#[tokio::test]
async fn events_enqueued_in_a_transaction_wake_workers_when_it_commits() {
    use diesel_async::AsyncConnection as _;
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;
    let mut listener = Listener::connect(db.url()).await.unwrap();

    conn.transaction::<_, suiteflow_store::StoreError, _>(async |tx| {
        let batch = [NewEvent::record(connection, "r", "t", "k1")];
        queue::enqueue_many(tx, &batch).await?;
        // Not committed yet: nobody is woken.
        assert_eq!(
            listener.wait(Duration::from_millis(150)).await.unwrap(),
            Wakeup::TimedOut
        );
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(
        listener.wait(Duration::from_secs(5)).await.unwrap(),
        Wakeup::Notified
    );

    // A rolled-back enqueue wakes nobody.
    let rolled_back = conn
        .transaction::<(), suiteflow_store::StoreError, _>(async |tx| {
            queue::enqueue(tx, &NewEvent::record(connection, "r", "t", "k2")).await?;
            Err(suiteflow_store::StoreError::Invalid("roll back".into()))
        })
        .await;
    assert!(rolled_back.is_err());
    assert_eq!(
        listener.wait(Duration::from_millis(150)).await.unwrap(),
        Wakeup::TimedOut
    );
}

#[tokio::test]
async fn a_change_a_cache_holds_is_announced_and_a_health_update_is_not() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;
    let mut changes = suiteflow_store::follow_connection_changes(db.url());
    // Wait until the follower's LISTEN is in place.
    for attempt in 0.. {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::Int8)]
            n: i64,
        }
        let listening: Count = diesel_async::RunQueryDsl::get_result(
            diesel::sql_query(
                "SELECT count(*) AS n FROM pg_stat_activity \
                 WHERE query = 'LISTEN suiteflow_connections' AND datname = current_database()",
            ),
            &mut conn,
        )
        .await
        .unwrap();
        if listening.n > 0 {
            break;
        }
        assert!(attempt < 500, "the follower never listened");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // The worker's bookkeeping changes nothing a cache holds: no notification.
    suiteflow_store::set_fingerprints(&mut conn, connection, "a", "b")
        .await
        .unwrap();
    suiteflow_store::set_connection_status(
        &mut conn,
        connection,
        suiteflow_store::ConnectionStatus::Paused,
    )
    .await
    .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), changes.recv())
        .await
        .unwrap();
    assert_eq!(
        first,
        Some(suiteflow_store::ConnectionChange::Changed(connection)),
        "the status change, and nothing before it"
    );
    // Setting the same status again changes nothing.
    suiteflow_store::set_connection_status(
        &mut conn,
        connection,
        suiteflow_store::ConnectionStatus::Paused,
    )
    .await
    .unwrap();
    let none = tokio::time::timeout(Duration::from_millis(300), changes.recv()).await;
    assert!(none.is_err(), "{none:?}");
}
