//! Housekeeping: keep-alive pulls for SmartSuite webhooks and the retention purge.

use suiteflow_store::{EventKind, EventStatus, NewEvent};
use suiteflow_test_support::rows;

use crate::support::World;

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_not_pulled_for_a_day_gets_a_keep_alive_pull_once() {
    let p = World::start().await;
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
    let pulls: Vec<(EventKind, String, EventStatus)> = rows::all_events(&mut conn)
        .await
        .into_iter()
        .map(|e| (e.kind, e.event_type, e.status))
        .collect();
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
    rows::delete_events(&mut conn).await;
    p.worker.maintenance().await.unwrap();
    assert_eq!(rows::event_count(&mut conn).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn finished_events_past_retention_are_purged_and_dead_letters_kept() {
    let p = World::start().await;
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
        rows::finish_events_of(&mut conn, record, status, at).await;
    }
    p.worker.maintenance().await.unwrap();
    let mut left: Vec<String> = rows::all_events(&mut conn)
        .await
        .into_iter()
        .map(|e| e.external_id)
        .collect();
    left.sort();
    assert_eq!(left, ["r1", "r2"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_file_urls_are_forgotten_and_live_ones_kept() {
    let p = World::start().await;
    let store = p.store().await;
    let mut conn = store.get().await.unwrap();
    let now = time::OffsetDateTime::now_utc();
    suiteflow_store::put_file_url(
        &mut conn,
        "old",
        "https://x/old",
        now - time::Duration::hours(1),
    )
    .await
    .unwrap();
    suiteflow_store::put_file_url(
        &mut conn,
        "new",
        "https://x/new",
        now + time::Duration::days(1),
    )
    .await
    .unwrap();
    let known = suiteflow_store::file_urls(&mut conn, &["old", "new"])
        .await
        .unwrap();
    assert_eq!(
        known.keys().collect::<Vec<_>>(),
        ["new"],
        "an expired URL is not used"
    );

    p.worker.maintenance().await.unwrap();
    assert_eq!(
        suiteflow_store::purge_expired_file_urls(&mut conn)
            .await
            .unwrap(),
        0,
        "maintenance already removed the expired one"
    );
    let known = suiteflow_store::file_urls(&mut conn, &["old", "new"])
        .await
        .unwrap();
    assert_eq!(known.get("new").map(String::as_str), Some("https://x/new"));
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_entries_past_retention_and_workers_gone_for_a_day_are_removed() {
    let p = World::start().await;
    let store = p.store().await;
    let mut conn = store.get().await.unwrap();
    for action in ["connection.created", "event.replay_dead_letters"] {
        suiteflow_store::audit(&mut conn, "cli", action, None, &serde_json::json!({}))
            .await
            .unwrap();
    }
    for id in ["gone", "recent"] {
        let beat = suiteflow_store::Beat {
            id,
            host: "h",
            started_at: time::OffsetDateTime::now_utc(),
            batch: None,
        };
        suiteflow_store::heartbeat(&mut conn, &beat).await.unwrap();
    }
    // One entry older than AUDIT_RETENTION_DAYS (365 by default), one worker unseen for a day.
    rows::age_audit(&mut conn, "connection.created", time::Duration::days(366)).await;
    rows::age_worker(&mut conn, "gone", time::Duration::hours(25)).await;

    p.worker.maintenance().await.unwrap();
    assert!(
        suiteflow_store::latest_audit(&mut conn, "connection.created")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        suiteflow_store::latest_audit(&mut conn, "event.replay_dead_letters")
            .await
            .unwrap()
            .is_some()
    );
    let workers: Vec<String> = suiteflow_store::running_workers(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(workers, ["recent"]);
}
