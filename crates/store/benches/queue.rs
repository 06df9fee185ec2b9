//! Queue throughput: `just bench-queue`, i.e.
//! `scripts/with-postgres.sh --durable cargo bench -p suiteflow-store --bench queue`.
//!
//! Measures enqueue (single and batched) and claim→settle with 1, 4 and 16 workers, against a
//! baseline of a naive worker (select a batch, then load and update each event one
//! by one, one worker). The headline is the worker's own path: claim 25, then `queue::settle`,
//! every outcome of the batch in one statement; beside it, for comparison, one `complete` per
//! event (the worker's path before) and the successes-only `complete_many` helper. Prints
//! events/s and the ratio to the baseline. `BENCH_EVENTS` sets the events per claim run
//! (default 20000).
//!
//! Then the claim at depth: the worker's own pattern (claim 25, settle the batch, 4 workers)
//! over ten connections, first with only the events it processes queued, then with
//! `BENCH_DEPTH` events queued (default 1,000,000). Target: at depth, at least 80 % of the
//! empty-queue figure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::QueryableByName;
use diesel::sql_types::{Int8, Uuid as SqlUuid};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use suiteflow_crypto::SecretString;
use suiteflow_store::{
    Completion, ConnectionId, ConnectionStatus, DatabaseConfig, EventId, NewConnection, NewEvent,
    Sealed, Store, WebhookScheme, create_connection, queue,
};

const LEASE: Duration = Duration::from_secs(300);
const BATCH: u32 = 25;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let events: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let db = suiteflow_test_support::TestDb::new().await;
    let config = DatabaseConfig {
        url: SecretString::new(db.url()),
        pool_size: 20,
        statement_timeout: Duration::from_secs(60),
        application_name: "bench-queue".into(),
    };
    let store = Store::connect(&config).await.unwrap();
    let connection = {
        let mut conn = store.get().await.unwrap();
        let settings: Vec<Setting> = diesel::sql_query(
            "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'server_version')",
        )
        .load(&mut conn)
        .await
        .unwrap();
        let shown: Vec<String> = settings
            .iter()
            .map(|s| format!("{}={}", s.name, s.setting))
            .collect();
        println!("PostgreSQL: {}", shown.join(" "));
        println!("events per claim run: {events}\n");
        create_connection(&mut conn, &new_connection())
            .await
            .unwrap()
            .id
    };

    // --- enqueue -------------------------------------------------------------------------
    let single_n = (events / 4).max(1000);
    let t = Instant::now();
    {
        let mut conn = store.get().await.unwrap();
        for i in 0..single_n {
            queue::enqueue(&mut conn, &event(connection, "s", i))
                .await
                .unwrap();
        }
    }
    let enqueue_single = rate(single_n, t.elapsed());
    report("enqueue, one at a time, 1 client", enqueue_single, None);
    reset(&store).await;

    let t = Instant::now();
    let mut clients = Vec::new();
    for c in 0..8 {
        let store = store.clone();
        clients.push(tokio::spawn(async move {
            let mut conn = store.get().await.unwrap();
            for i in (c..single_n).step_by(8) {
                queue::enqueue(&mut conn, &event(connection, "s", i))
                    .await
                    .unwrap();
            }
        }));
    }
    for c in clients {
        c.await.unwrap();
    }
    report(
        "enqueue, one at a time, 8 clients",
        rate(single_n, t.elapsed()),
        None,
    );
    reset(&store).await;

    let batched_n = events * 2;
    let t = Instant::now();
    fill(&store, connection, batched_n, "b").await;
    report(
        "enqueue_many, batches of 500, 1 client",
        rate(batched_n, t.elapsed()),
        None,
    );
    reset(&store).await;

    // --- baseline: a naive worker ----------------------------------------------------------
    fill(&store, connection, events, "base").await;
    let t = Instant::now();
    let processed = baseline_worker(&store).await;
    assert_eq!(processed, events);
    let baseline = rate(events, t.elapsed());
    println!();
    report(
        "baseline: select batch, then update each event (1 worker)",
        baseline,
        None,
    );
    reset(&store).await;

    // --- claim -> settle -------------------------------------------------------------------
    // The worker's own path first: claim, then `queue::settle` (one statement per batch).
    let runs: [(&str, Settle, u32); 4] = [
        (
            "claim 25 -> settle (the worker's path, all successes)",
            Settle::Batch,
            BATCH,
        ),
        ("claim 25 -> complete (one per event)", Settle::Each, BATCH),
        ("claim 25 -> complete_many", Settle::CompleteMany, BATCH),
        ("claim 100 -> complete_many", Settle::CompleteMany, 100),
    ];
    for (what, batched, batch) in runs {
        for workers in [1, 4, 16] {
            fill(&store, connection, events, "c").await;
            // A fresh pool per run: no run inherits the statements (and the plans) another
            // run's connections cached. Connected before the clock starts.
            let run_store = Store::connect(&config).await.unwrap();
            let t = Instant::now();
            let processed = claim_complete(&run_store, workers, batched, batch).await;
            assert_eq!(processed, events);
            report(
                &format!("{what}, {workers} workers"),
                rate(events, t.elapsed()),
                Some(baseline),
            );
            reset(&store).await;
        }
    }

    // --- claim at depth ---------------------------------------------------------------------
    let depth: usize = std::env::var("BENCH_DEPTH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let mut connections = vec![connection];
    {
        let mut conn = store.get().await.unwrap();
        for _ in 1..10 {
            connections.push(
                create_connection(&mut conn, &new_connection())
                    .await
                    .unwrap()
                    .id,
            );
        }
    }
    println!();
    let workers = 4;
    let what = "claim 25 -> settle, 4 workers, 10 connections";
    bulk_fill(&store, events).await;
    let t = Instant::now();
    let processed = claim_complete_n(&store, workers, events).await;
    let empty = rate(processed, t.elapsed());
    report(&format!("{what}, {events} queued"), empty, None);
    reset(&store).await;

    let t = Instant::now();
    bulk_fill(&store, depth).await;
    println!(
        "(queued {depth} events over {} connections in {:.0} s)",
        connections.len(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let processed = claim_complete_n(&store, workers, events).await;
    let deep = rate(processed, t.elapsed());
    println!(
        "{:<60} {deep:>10.0} events/s  ({:.0} % of the empty-queue figure; target >= 80 %: {})",
        format!("{what}, {depth} queued"),
        deep / empty * 100.0,
        if deep >= 0.8 * empty { "PASS" } else { "FAIL" }
    );
    reset(&store).await;
}

/// Queues `n` events spread over every connection in one statement (faster than
/// `enqueue_many` for a million), then refreshes the planner's statistics as autovacuum would.
async fn bulk_fill(store: &Store, n: usize) {
    let mut conn = store.get().await.unwrap();
    conn.batch_execute(&format!(
        "WITH c AS (SELECT array_agg(id ORDER BY id) AS ids FROM connections)          INSERT INTO events (connection_id, external_id, event_type, idempotency_key, payload)          SELECT c.ids[1 + g % cardinality(c.ids)], 'deep-' || g, 'record_updated', 'deep-' || g,                 jsonb_build_object('event_type', 'record_updated', 'record_id', 'deep-' || g,                                    'data', jsonb_build_object('title', 'A product', 'sku', 'SKU-' || g))          FROM c, generate_series(1, {n}) g;          ANALYZE events;"
    ))
    .await
    .unwrap();
}

/// `workers` workers claim 25 and settle each batch, as the worker does, until `n` events
/// are processed between them.
async fn claim_complete_n(store: &Store, workers: usize, n: usize) -> usize {
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (store, done) = (store.clone(), Arc::clone(&done));
        tasks.push(tokio::spawn(async move {
            let worker = format!("deep-{w}");
            let mut conn = store.get().await.unwrap();
            while AtomicUsize::load(&done, Ordering::Relaxed) < n {
                let claimed = queue::claim(&mut conn, &worker, BATCH, LEASE)
                    .await
                    .unwrap();
                if claimed.is_empty() {
                    return;
                }
                let outcomes: Vec<_> = claimed
                    .iter()
                    .map(|e| (e.id, queue::Settlement::Complete(Completion::default())))
                    .collect();
                queue::settle(&mut conn, &worker, &outcomes).await.unwrap();
                AtomicUsize::fetch_add(&done, claimed.len(), Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    AtomicUsize::load(&done, Ordering::Relaxed)
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    setting: String,
}

fn new_connection() -> NewConnection {
    let sealed = || Sealed {
        ciphertext: "x".into(),
        iv: "y".into(),
    };
    NewConnection {
        id: ConnectionId::new_random(),
        name: "bench".into(),
        status: ConnectionStatus::Active,
        smartsuite_account_id: "a".into(),
        smartsuite_table_id: "t".into(),
        smartsuite_solution_id: None,
        smartsuite_api_key: sealed(),
        webflow_site_id: "s".into(),
        webflow_collection_id: "c".into(),
        webflow_token: sealed(),
        webhook_scheme: WebhookScheme::Hmac,
        webhook_secret: sealed(),
        encryption_key_id: "k".into(),
        rate_limit_per_min: 60,
        max_retries: 5,
        retry_backoff_ms: 1000,
        sync_delay_ms: 0,
    }
}

fn event(connection: ConnectionId, prefix: &str, i: usize) -> NewEvent {
    NewEvent::record(
        connection,
        format!("rec-{i}"),
        "record_updated",
        format!("{prefix}-{i}"),
    )
    .with_payload(serde_json::json!({
        "event_type": "record_updated",
        "record_id": format!("rec-{i}"),
        "data": {"title": "A product", "price": "12.50", "sku": format!("SKU-{i}")}
    }))
}

async fn fill(store: &Store, connection: ConnectionId, n: usize, prefix: &str) {
    let mut conn = store.get().await.unwrap();
    let all: Vec<NewEvent> = (0..n).map(|i| event(connection, prefix, i)).collect();
    for chunk in all.chunks(500) {
        queue::enqueue_many(&mut conn, chunk).await.unwrap();
    }
}

async fn reset(store: &Store) {
    let mut conn = store.get().await.unwrap();
    conn.batch_execute("TRUNCATE events").await.unwrap();
    conn.batch_execute("VACUUM ANALYZE events").await.unwrap();
}

/// How a claimed batch is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settle {
    /// `queue::settle`: every outcome in one statement, as the worker records them.
    Batch,
    /// `queue::complete` per event.
    Each,
    /// One UPDATE of every id as `success` (the test helper; successes only).
    CompleteMany,
}

async fn claim_complete(store: &Store, workers: usize, batched: Settle, batch: u32) -> usize {
    let mut tasks = Vec::new();
    for w in 0..workers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let worker = format!("bench-{w}");
            let mut conn = store.get().await.unwrap();
            let mut done = 0;
            loop {
                let claimed = queue::claim(&mut conn, &worker, batch, LEASE)
                    .await
                    .unwrap();
                if claimed.is_empty() {
                    return done;
                }
                match batched {
                    Settle::Batch => {
                        let outcomes: Vec<_> = claimed
                            .iter()
                            .map(|e| (e.id, queue::Settlement::Complete(Completion::default())))
                            .collect();
                        let settled = queue::settle(&mut conn, &worker, &outcomes).await.unwrap();
                        assert_eq!(settled.0.len(), claimed.len());
                    }
                    Settle::CompleteMany => {
                        let ids: Vec<EventId> = claimed.iter().map(|e| e.id).collect();
                        let lost =
                            suiteflow_test_support::rows::complete_many(&mut conn, &worker, &ids)
                                .await;
                        assert!(lost.is_empty());
                    }
                    Settle::Each => {
                        for e in &claimed {
                            queue::complete(&mut conn, &worker, e.id, &Completion::default())
                                .await
                                .unwrap();
                        }
                    }
                }
                done += claimed.len();
            }
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = SqlUuid)]
    id: EventId,
}

/// A naive worker (an ORM's `findMany`): a batch of ready events (with their connection), then
/// per event `findUnique` it, update it to `processing`, and update it to `success`.
async fn baseline_worker(store: &Store) -> usize {
    let mut conn = store.get().await.unwrap();
    let mut done = 0;
    loop {
        let batch: Vec<IdRow> = diesel::sql_query(
            "SELECT e.id FROM events e JOIN connections c ON c.id = e.connection_id \
             WHERE (e.status = 'queued' OR (e.status = 'failed' AND e.retry_after <= now())) \
               AND c.status = 'active' \
             ORDER BY e.queued_at LIMIT $1",
        )
        .bind::<Int8, _>(i64::from(BATCH))
        .load(&mut conn)
        .await
        .unwrap();
        if batch.is_empty() {
            return done;
        }
        for row in batch {
            let _: Vec<IdRow> = diesel::sql_query(
                "SELECT e.id FROM events e JOIN connections c ON c.id = e.connection_id WHERE e.id = $1",
            )
            .bind::<SqlUuid, _>(row.id)
            .load(&mut conn)
            .await
            .unwrap();
            diesel::sql_query(
                "UPDATE events SET status = 'processing', attempts = attempts + 1, started_at = now(), \
                 locked_by = 'baseline', lease_expires_at = now() + interval '5 minutes' WHERE id = $1",
            )
            .bind::<SqlUuid, _>(row.id)
            .execute(&mut conn)
            .await
            .unwrap();
            diesel::sql_query(
                "UPDATE events SET status = 'success', processed_at = now(), locked_by = NULL, \
                 lease_expires_at = NULL, \
                 duration_ms = (extract(epoch FROM now() - queued_at) * 1000)::bigint WHERE id = $1",
            )
            .bind::<SqlUuid, _>(row.id)
            .execute(&mut conn)
            .await
            .unwrap();
            done += 1;
        }
    }
}

fn rate(n: usize, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64()
}

fn report(what: &str, per_second: f64, baseline: Option<f64>) {
    match baseline {
        Some(b) => println!(
            "{what:<60} {per_second:>10.0} events/s  ({:.1}x baseline)",
            per_second / b
        ),
        None => println!("{what:<60} {per_second:>10.0} events/s"),
    }
}
