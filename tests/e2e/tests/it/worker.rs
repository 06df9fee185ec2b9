//! The worker as a process sees it: replicas sharing the queue, `worker --once`, `/metrics`.

use serde_json::json;
use suiteflow_store::EventStatus;

use suiteflow_test_support::eventually;

use crate::support::*;

/// How long the tests here wait for a worker to get somewhere.
const FIVE_SECONDS: std::time::Duration = std::time::Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread")]
async fn two_workers_write_each_record_once() {
    let p = Pipeline::start().await;
    let n = 1000;
    {
        // Enqueue straight into the store (the ingress path is tested above).
        let store = p.store().await;
        let mut conn = store.get().await.unwrap();
        let events: Vec<_> = (0..n)
            .map(|i| {
                suiteflow_store::NewEvent::record(
                    p.connection,
                    format!("r{i}"),
                    "record_created",
                    format!("k{i}"),
                )
                .with_payload(json!({"data": {"title": format!("Product {i}"), "price": "1"}}))
            })
            .collect();
        suiteflow_store::queue::enqueue_many(&mut conn, &events)
            .await
            .unwrap();
    }
    let second = p.another_worker().await;
    let (a, b) = tokio::join!(p.worker.run_until_empty(), second.run_until_empty());
    let (a, b) = (a.unwrap(), b.unwrap());
    p.sync().await;
    assert_eq!(p.items().len(), n);
    assert_eq!(p.count(EventStatus::Success).await, n as i64);
    let created: usize =
        p.wf.requests()
            .iter()
            .filter(|r| r.method == "POST" && r.status < 300)
            .map(|r| {
                r.body
                    .get("items")
                    .and_then(|i| i.as_array())
                    .map_or(1, Vec::len)
            })
            .sum();
    assert_eq!(created, n, "each record created exactly once");
    assert!(
        a.processed > 0 && b.processed > 0,
        "both workers took part: {a:?} {b:?}"
    );
    // Bulk calls: far fewer Webflow calls than records.
    assert!(
        p.calls("POST", "/items/live") <= 20,
        "{} create calls",
        p.calls("POST", "/items/live")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn worker_once_prints_the_cron_summary() {
    let p = Pipeline::start().await;
    p.accept(
        "record_created",
        "r",
        json!({"title": "Rug", "price": "9"}),
        "k",
    )
    .await;
    let output = std::process::Command::new(suiteflow_test_support::process::binary("worker"))
        .arg("--once")
        .env_clear()
        .envs(p.settings())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["processed"], 1);
    assert_eq!(summary["succeeded"], 1);
    assert_eq!(summary["failed"], 0);
    assert_eq!(summary["queueDepth"], 0);
    assert!(
        summary["durationMs"].is_u64() && summary["oldestEventAge"].is_u64(),
        "{summary}"
    );
    assert_eq!(p.items().len(), 1);
    // The run left its heartbeat (the health endpoint's workerLastRun) and its clean stop, so
    // it is not listed among the running workers; and no audit entry: the audit log is for
    // operators' actions.
    let store = p.store().await;
    let mut conn = store.get().await.unwrap();
    let seen = suiteflow_store::worker_last_seen(&mut conn).await.unwrap();
    assert!(
        seen.is_some_and(|at| time::OffsetDateTime::now_utc() - at < time::Duration::minutes(1)),
        "{seen:?}"
    );
    let running = suiteflow_store::running_workers(&mut conn).await.unwrap();
    assert!(running.is_empty(), "{running:?}");
    assert!(
        suiteflow_store::latest_audit(&mut conn, "worker.completed")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_worker_beats_while_idle_and_shows_the_batch_in_hand() {
    let p = Pipeline::start().await;
    let store = p.store().await;
    let worker = std::sync::Arc::new(
        p.another_worker()
            .await
            .with_heartbeat_every(std::time::Duration::from_millis(100)),
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = {
        let worker = std::sync::Arc::clone(&worker);
        tokio::spawn(async move { worker.run(stopped).await })
    };
    let beat = async || {
        let mut conn = store.get().await.unwrap();
        suiteflow_store::running_workers(&mut conn)
            .await
            .unwrap()
            .into_iter()
            .find(|w| w.id == worker.id())
    };
    // Idle: the row appears and keeps being seen, with nothing in hand.
    let first = eventually(FIVE_SECONDS, async || beat().await)
        .await
        .expect("a heartbeat");
    let later = eventually(FIVE_SECONDS, async || {
        beat().await.filter(|w| w.last_seen_at > first.last_seen_at)
    })
    .await
    .expect("the heartbeat goes on while idle");
    assert_eq!((later.current_batch, later.batch_started_at), (0, None));
    assert_eq!(later.started_at, first.started_at);

    // A batch that takes a while is shown in hand while it is worked on.
    p.wf.inject(
        suiteflow_test_support::webflow::FaultRule::new(
            suiteflow_test_support::webflow::Fault::Slow(std::time::Duration::from_millis(800)),
            1,
        )
        .method("POST"),
    );
    p.accept_a_create("rec_1").await;
    let busy = eventually(FIVE_SECONDS, async || {
        beat().await.filter(|w| w.current_batch == 1)
    })
    .await
    .expect("the batch in hand is shown");
    assert!(busy.batch_started_at.is_some());
    let idle = eventually(FIVE_SECONDS, async || {
        beat()
            .await
            .filter(|w| w.current_batch == 0 && w.last_seen_at > busy.last_seen_at)
    })
    .await
    .expect("idle again once the batch is recorded");
    assert_eq!(idle.batch_started_at, None);
    assert_eq!(p.count(suiteflow_store::EventStatus::Success).await, 1);

    stop.send(true).unwrap();
    running.await.unwrap().unwrap();
    // A clean stop: no longer among the running workers.
    assert!(beat().await.is_none(), "a stopped worker is not listed");
    let mut conn = store.get().await.unwrap();
    let seen = suiteflow_store::worker_last_seen(&mut conn).await.unwrap();
    assert!(seen >= Some(idle.last_seen_at), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_and_healthz_are_served() {
    let p = Pipeline::start().await;
    let (server, addr) = worker::metrics::serve("127.0.0.1:0".parse().unwrap()).unwrap();
    let handle = server.handle();
    tokio::spawn(server);
    p.accept(
        "record_created",
        "r",
        json!({"title": "Mat", "price": "3"}),
        "k",
    )
    .await;
    p.sync().await;
    let health = p
        .http
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    suiteflow_test_support::http::assert_security_headers(&health, false);
    let metrics = p
        .http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        r#"worker_events_total{outcome="success"} 1"#,
        "worker_events_claimed_total 1",
        "worker_queue_depth 0",
        "worker_webflow_requests_total",
        r#"worker_connections{status="active"} 1"#,
        "worker_event_duration_seconds",
    ] {
        assert!(
            metrics.contains(expected),
            "{expected} missing from:\n{metrics}"
        );
    }
    handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn worker_concurrency_bounds_the_events_in_flight() {
    let p = Pipeline::start_with(Options {
        env: vec![("WORKER_CONCURRENCY", "10".to_string())],
        ..Options::default()
    })
    .await;
    for i in 0..30 {
        let data = json!({"title": format!("Lamp {i}"), "price": "4"});
        p.accept("record_created", &format!("r{i}"), data, &format!("k{i}"))
            .await;
    }
    // One claim takes all 30 (WORKER_BATCH_SIZE 100), and at most 10 are written at once.
    let summary = p.worker.run_once().await.unwrap();
    assert_eq!((summary.processed, summary.succeeded), (30, 30));
    let sizes: Vec<usize> =
        p.wf.requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/items/live"))
            .map(|r| r.body["items"].as_array().map_or(1, Vec::len))
            .collect();
    assert_eq!(sizes, [10, 10, 10], "bulk creates of at most 10 items");
}

#[tokio::test(flavor = "multi_thread")]
async fn worker_once_runs_the_maintenance_that_is_due() {
    let p = Pipeline::start().await;
    let id = p.register_smartsuite_webhook("cron-token").await;
    assert!(p.ss.disable_notifications(&id));
    let output = std::process::Command::new(suiteflow_test_support::process::binary("worker"))
        .arg("--once")
        .env_clear()
        .envs(p.settings())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let hook =
        p.ss.webhooks()
            .into_iter()
            .find(|w| w["webhook_id"] == id.as_str())
            .unwrap();
    assert!(
        hook["notification_status"]["enabled"]["url"].is_string(),
        "the cron run turned notifications back on: {hook}"
    );
    // And queued the webhook's keep-alive pull, which the same run processed.
    let pulls: Vec<_> = p
        .all_events()
        .await
        .into_iter()
        .filter(|e| e.kind == suiteflow_store::EventKind::Pull)
        .collect();
    assert_eq!(pulls.len(), 1, "{pulls:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_slower_than_its_lease_keeps_its_events_from_another_worker() {
    let p = std::sync::Arc::new(
        Pipeline::start_with(Options {
            env: vec![("LOCK_TIMEOUT_MS", "1000".to_string())],
            ..Options::default()
        })
        .await,
    );
    p.accept(
        "record_created",
        "rec_1",
        serde_json::json!({"title": "Oak Chair", "price": "120"}),
        "k1",
    )
    .await;
    // Webflow stalls on the create for 1.5 leases (within the tests' 2 s client timeout).
    p.wf.inject(
        suiteflow_test_support::webflow::FaultRule::new(
            suiteflow_test_support::webflow::Fault::Slow(std::time::Duration::from_millis(1500)),
            1,
        )
        .method("POST"),
    );
    let first = {
        let p = std::sync::Arc::clone(&p);
        tokio::spawn(async move { p.worker.run_until_empty().await.unwrap() })
    };
    // The first worker holds the event: its first lease.
    let holding = async || {
        p.events_of("rec_1")
            .await
            .into_iter()
            .find(|e| e.status == suiteflow_store::EventStatus::Processing)
    };
    let held = eventually(FIVE_SECONDS, async || holding().await)
        .await
        .expect("the first worker claims the event");
    assert_eq!(held.locked_by.as_deref(), Some(p.worker.id()));
    let first_lease = held.lease_expires_at.expect("a lease");
    // Until the batch is done, another worker finds nothing to take over, also past the first
    // lease: the lease was extended.
    let other = p.another_worker().await;
    let (mut tried_past_the_first_lease, mut extended) = (false, false);
    while !first.is_finished() {
        let tried_at = time::OffsetDateTime::now_utc();
        let taken = other.run_until_empty().await.unwrap();
        assert_eq!(
            taken.processed, 0,
            "the stalled batch's event was taken over"
        );
        tried_past_the_first_lease |= tried_at > first_lease;
        extended |= holding()
            .await
            .and_then(|e| e.lease_expires_at)
            .is_some_and(|lease| lease > first_lease);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        tried_past_the_first_lease && extended,
        "the batch did not outlive its first lease (nothing tested) or was not extended"
    );
    let done = first.await.unwrap();
    let all = p.all_events().await;
    assert_eq!(
        (done.processed, done.succeeded),
        (1, 1),
        "{:?}",
        all.iter()
            .map(|e| (
                &e.external_id,
                &e.event_type,
                e.status,
                e.attempts,
                &e.error
            ))
            .collect::<Vec<_>>()
    );
    let events = p.events_of("rec_1").await;
    assert_eq!(events[0].status, suiteflow_store::EventStatus::Success);
    assert_eq!(events[0].attempts, 1, "claimed once");
    assert_eq!(p.items().len(), 1);
    assert_eq!(p.calls("POST", "/items/live"), 1, "one create");
}
