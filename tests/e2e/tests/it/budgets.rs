//! The budgets are counted where the APIs count them: per Webflow token and per SmartSuite
//! API key, shared by every connection and every worker replica, with a 429's pause shared
//! too. The stand-ins count as the real APIs do (per token, per key) and refuse with 429.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use suiteflow_store::EventStatus;
use suiteflow_test_support::fixtures::ConnectionSpec;
use suiteflow_test_support::webflow::WebflowConfig;
use worker::Worker;

use crate::support::*;

/// `n` records of the products table, as SmartSuite would send them.
fn records(prefix: &str, n: usize) -> Vec<(String, Value)> {
    (0..n)
        .map(|i| {
            let id = format!("{prefix}{i}");
            let record = json!({"id": id, "title": format!("{prefix} chair {i}"), "price": i});
            (id, record)
        })
        .collect()
}

/// Runs the workers side by side until every event succeeded (or `limit` passed).
async fn drain(p: &Pipeline, workers: &[&Worker], limit: Duration) {
    let started = Instant::now();
    while started.elapsed() < limit {
        let runs = workers.iter().map(|w| w.run_until_empty());
        for run in futures::future::join_all(runs).await {
            run.unwrap();
        }
        let statuses = p.statuses().await;
        if statuses.iter().all(|(s, _)| *s == EventStatus::Success) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the events did not all succeed within {limit:?}: {:?}",
        p.statuses().await
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_connections_on_one_webflow_token_share_its_limit_and_meet_no_429() {
    // The clock is scaled: "a minute" is two seconds, on both sides. Webflow allows the token
    // 60 requests a minute; each connection may use up to all of them.
    let window = Duration::from_secs(2);
    let spec = ConnectionSpec {
        rate_limit_per_min: 60,
        retry_backoff_ms: 1,
        max_retries: 10,
        ..ConnectionSpec::default()
    };
    let p = Pipeline::start_with(Options {
        webflow: WebflowConfig {
            rate_limit: 60,
            rate_window: window,
            ..WebflowConfig::default()
        },
        spec: spec.clone(),
        // One event per batch: one Webflow call per record, so the budget really binds.
        env: vec![("WORKER_BATCH_SIZE", "1".to_string())],
        rate_window: window,
    })
    .await;
    let (b, products_b) = p.another_connection(spec).await;
    let n = 45;
    p.enqueue_records(p.connection, &records("a", n)).await;
    p.enqueue_records(b, &records("b", n)).await;

    let started = Instant::now();
    drain(&p, &[&p.worker], Duration::from_secs(60)).await;
    let took = started.elapsed();

    assert_eq!(p.items().len(), n, "connection A's items");
    assert_eq!(p.wf.items(&products_b.collection).len(), n, "B's items");
    let requests = p.wf.requests();
    let refused = requests.iter().filter(|r| r.status == 429).count();
    assert_eq!(refused, 0, "Webflow refused {refused} requests with 429");
    // The run needed more than one window of the token's budget, so sharing it was tested:
    // two buckets of 60 would have sent these in one window and met 429s.
    assert!(requests.len() > 60, "only {} requests", requests.len());
    assert!(took > window, "{took:?}: the budget was never waited for");

    // Both connections name the token's bucket by one fingerprint, which is not the token.
    let a_row = p.connection_row().await;
    let store = p.store().await;
    let mut conn = store.get().await.unwrap();
    let b_row = suiteflow_store::get_connection(&mut conn, b)
        .await
        .unwrap()
        .unwrap();
    let fingerprint = a_row.webflow_token_fingerprint.clone().unwrap();
    assert_eq!(b_row.webflow_token_fingerprint, Some(fingerprint.clone()));
    assert!(!fingerprint.contains(&p.wf.token()));
    let bucket = suiteflow_store::bucket::webflow_token(&fingerprint);
    let state = suiteflow_store::bucket_state(&mut conn, &bucket)
        .await
        .unwrap()
        .expect("the token's bucket");
    assert_eq!(
        state.announced_limit,
        Some(60),
        "the bucket follows X-RateLimit-Limit"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_workers_on_one_smartsuite_key_stay_within_five_requests_a_second() {
    let p = Pipeline::start_with(Options {
        // One event per batch: one SmartSuite read per record.
        env: vec![("WORKER_BATCH_SIZE", "1".to_string())],
        ..Options::default()
    })
    .await;
    let second = p.another_worker().await;
    // Events that do not carry their record (a pull's): each is read from SmartSuite.
    let n = 20;
    let ids = p.ss.insert_records(
        &p.table,
        (0..n)
            .map(|i| json!({"title": format!("Stool {i}"), "price": i}))
            .collect(),
    );
    let events: Vec<_> = ids
        .iter()
        .map(|id| {
            suiteflow_store::NewEvent::record(p.connection, id, "record_updated", id.clone())
                .with_payload(
                    json!({"event_type": "record_updated", "record_id": id, "source": "smartsuite"}),
                )
        })
        .collect();
    {
        let store = p.store().await;
        let mut conn = store.get().await.unwrap();
        suiteflow_store::queue::enqueue_many(&mut conn, &events)
            .await
            .unwrap();
    }
    p.ss.clear_requests();

    drain(&p, &[&p.worker, &second], Duration::from_secs(60)).await;

    assert_eq!(p.items().len(), n, "every record written");
    let requests = p.ss.requests();
    let refused = requests.iter().filter(|r| r.status == 429).count();
    assert_eq!(refused, 0, "SmartSuite refused {refused} requests with 429");
    assert!(
        requests.len() >= n,
        "only {} SmartSuite requests",
        requests.len()
    );
    let mut arrivals: Vec<Instant> = requests.iter().map(|r| r.at).collect();
    arrivals.sort();
    let busiest = arrivals
        .iter()
        .enumerate()
        .map(|(i, start)| {
            arrivals[i..]
                .iter()
                .take_while(|t| t.duration_since(*start) < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0);
    assert!(
        busiest <= 5,
        "{busiest} SmartSuite requests within a second"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn after_webflow_answers_429_with_retry_after_10_no_replica_calls_it_for_10_seconds() {
    let p = Pipeline::start_with(Options {
        env: vec![("WORKER_BATCH_SIZE", "5".to_string())],
        ..Options::default()
    })
    .await;
    let second = p.another_worker().await;
    p.enqueue_records(p.connection, &records("r", 10)).await;
    p.wf.block_token(&p.wf.token(), Duration::from_secs(10));

    // The first replica meets the 429; then both run until everything is written.
    p.worker.run_until_empty().await.unwrap();
    drain(&p, &[&p.worker, &second], Duration::from_secs(60)).await;

    assert_eq!(p.items().len(), 10, "every record written");
    let requests = p.wf.requests();
    let refused: Vec<_> = requests.iter().filter(|r| r.status == 429).collect();
    assert_eq!(refused.len(), 1, "one 429, then the pause was kept");
    let first = refused[0];
    let pause_end = first.at + Duration::from_secs(10) - Duration::from_millis(50);
    let during: Vec<_> = requests
        .iter()
        .filter(|r| r.at > first.at && r.at < pause_end)
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        during.is_empty(),
        "Webflow was called during the pause: {during:?}"
    );
    assert!(
        requests.iter().any(|r| r.at >= pause_end && r.status < 300),
        "Webflow was called again after the pause"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pull_of_100_changes_reads_their_records_in_at_most_two_calls() {
    let p = Pipeline::start().await;
    let webhook = p.register_smartsuite_webhook("pull-token-100").await;
    p.ss.set_auto_ping(false);
    p.ss.insert_records(
        &p.table,
        (0..100)
            .map(|i| json!({"title": format!("Lamp {i}"), "price": i}))
            .collect(),
    );
    p.ss.clear_requests();
    assert_eq!(p.ss.ping(&webhook).await, Ok(200));
    assert!(p.wait_for_queued().await, "the ping did not queue a pull");
    p.sync().await;

    assert_eq!(p.items().len(), 100, "every change written");
    let requests = p.ss.requests();
    let record_reads: Vec<_> = requests
        .iter()
        .filter(|r| r.path.contains("/records"))
        .collect();
    assert!(
        !record_reads.is_empty() && record_reads.len() <= 2,
        "{} calls read the records: {:?}",
        record_reads.len(),
        record_reads
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect::<Vec<_>>()
    );
    assert!(
        record_reads.iter().all(|r| r.path.ends_with("/list/")),
        "records are read with records/list, not one GET each"
    );
}
