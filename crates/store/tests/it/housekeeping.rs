//! Workers' heartbeats and the audit log's retention.

use serde_json::json;
use suiteflow_store::{Beat, audit, forget_workers_unseen_since, heartbeat, running_workers};
use suiteflow_test_support::{TestDb, rows};
use time::{Duration, OffsetDateTime};

use crate::common;

#[tokio::test]
async fn a_heartbeat_keeps_the_start_moves_the_last_seen_and_shows_the_batch() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    let started = OffsetDateTime::now_utc() - Duration::minutes(10);
    // Whole seconds: PostgreSQL keeps microseconds.
    let claimed = (OffsetDateTime::now_utc() - Duration::seconds(3))
        .replace_nanosecond(0)
        .unwrap();
    let idle = Beat {
        id: "w1",
        host: "node-a",
        started_at: started,
        batch: None,
    };
    heartbeat(&mut conn, &idle).await.unwrap();
    let first = running_workers(&mut conn).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(
        (
            first[0].host.as_str(),
            first[0].current_batch,
            first[0].batch_started_at
        ),
        ("node-a", 0, None)
    );

    // Later, with a batch in hand; the start does not move.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let busy = Beat {
        batch: Some((25, claimed)),
        started_at: OffsetDateTime::now_utc(),
        ..idle
    };
    heartbeat(&mut conn, &busy).await.unwrap();
    let [w]: [_; 1] = running_workers(&mut conn)
        .await
        .unwrap()
        .try_into()
        .unwrap();
    assert!(w.last_seen_at > first[0].last_seen_at);
    assert_eq!(w.started_at, first[0].started_at, "started once");
    assert_eq!((w.current_batch, w.batch_started_at), (25, Some(claimed)));
    assert_eq!(
        suiteflow_store::worker_last_seen(&mut conn).await.unwrap(),
        Some(w.last_seen_at)
    );

    // A clean stop: nothing in hand, not listed as running, still the last seen.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    suiteflow_store::worker_stopped(&mut conn, "w1")
        .await
        .unwrap();
    assert!(running_workers(&mut conn).await.unwrap().is_empty());
    let seen = suiteflow_store::worker_last_seen(&mut conn).await.unwrap();
    assert!(seen > Some(w.last_seen_at), "{seen:?}");
}

#[tokio::test]
async fn workers_unseen_since_the_cut_are_forgotten_and_the_others_kept() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    assert_eq!(
        suiteflow_store::worker_last_seen(&mut conn).await.unwrap(),
        None
    );
    for id in ["gone", "here"] {
        let beat = Beat {
            id,
            host: "h",
            started_at: OffsetDateTime::now_utc(),
            batch: None,
        };
        heartbeat(&mut conn, &beat).await.unwrap();
    }
    rows::age_worker(&mut conn, "gone", Duration::hours(25)).await;
    let cut = OffsetDateTime::now_utc() - Duration::days(1);
    assert_eq!(
        forget_workers_unseen_since(&mut conn, cut).await.unwrap(),
        1
    );
    let left: Vec<String> = running_workers(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(left, ["here"]);
}

#[tokio::test]
async fn audit_entries_past_retention_are_purged_in_batches_and_newer_ones_kept() {
    let db = TestDb::new().await;
    let store = common::store(&db, 2).await;
    let mut conn = store.get().await.unwrap();
    for (n, action) in ["old.a", "old.b", "old.c", "new.a", "new.b"]
        .iter()
        .enumerate()
    {
        audit(&mut conn, "cli", action, None, &json!({"n": n}))
            .await
            .unwrap();
    }
    for action in ["old.a", "old.b", "old.c"] {
        rows::age_audit(&mut conn, action, Duration::days(400)).await;
    }
    let cut = OffsetDateTime::now_utc() - Duration::days(365);
    // Two per statement: the purge goes on until nothing old is left.
    assert_eq!(
        suiteflow_store::purge_audit(&mut conn, cut, 2)
            .await
            .unwrap(),
        3
    );
    for (action, kept) in [
        ("old.a", false),
        ("old.c", false),
        ("new.a", true),
        ("new.b", true),
    ] {
        let found = suiteflow_store::latest_audit(&mut conn, action)
            .await
            .unwrap();
        assert_eq!(found.is_some(), kept, "{action}");
    }
}
