//! `just bench-fairness`: one connection's backlog must not hold another's change back.
//!
//! Connection A has a backlog of queued records (20,000 by default) and a Webflow token
//! limited to 60 requests a minute; connection B, on another token, receives one signed
//! webhook a second through the ingress. One worker (batch 100) runs its loop for the
//! measured window. Reported against the targets:
//!
//! - B's latency, webhook accepted → item visible in the stand-in: p99 ≤ 2 s;
//! - A's drain rate: ≥ 5,000 records a minute (its ceiling is 60 bulk calls of 100);
//! - A's claims per minute against its writes: every claim of A's is a write, not a claim put
//!   back because the budget was spent (ratio ≤ 1.1).
//!
//! Real clock (the limits are Webflow's own). Run under `scripts/with-postgres.sh --durable`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;
use serde_json::{Value, json};
use suiteflow_load::{install_crypto_provider, load_average, ms, quantile, require_cluster, sign};
use suiteflow_settings::{Reader, Source};
use suiteflow_store::Store;
use suiteflow_sync::ClientOptions;
use suiteflow_test_support::fixtures::{
    ConnectionSpec, Products, ProductsWorld, stand_in_settings,
};
use suiteflow_test_support::webflow::WebflowConfig;
use tokio::sync::watch;
use worker::Worker;

const SECRET: &str = "bench-fairness-hmac-secret";
const WEBFLOW_PER_MINUTE: u32 = 60;
const B_TOKEN: &str = "bench-fairness-token-b";
const TARGET_B_P99: Duration = Duration::from_secs(2);
const TARGET_A_PER_MINUTE: f64 = 5_000.0;
/// Claims per record written at most: more means claims that were put back.
const TARGET_CLAIMS_PER_WRITE: f64 = 1.1;

#[derive(Parser, Debug)]
#[command(about = "Fair claiming: a backlog next to a trickle")]
struct Args {
    /// Records queued for connection A before the run.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(100..=200_000))]
    backlog: u64,
    /// Length of the measured window, in seconds (B sends one webhook a second).
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(10..=1800))]
    seconds: u64,
    /// Exit non-zero when a target is missed.
    #[arg(long)]
    strict: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    require_cluster()?;
    install_crypto_provider();
    println!("bench-fairness; load average before: {}", load_average());

    // A: the products connection, its token at 60 requests a minute.
    let spec = ConnectionSpec {
        webhook_secret: SECRET.into(),
        rate_limit_per_min: i32::try_from(WEBFLOW_PER_MINUTE)?,
        retry_backoff_ms: 100,
        ..ConnectionSpec::default()
    };
    let world = ProductsWorld::start(
        WebflowConfig {
            rate_limit: WEBFLOW_PER_MINUTE,
            rate_window: Duration::from_secs(60),
            ..WebflowConfig::default()
        },
        spec.clone(),
        Products::mapping(),
    )
    .await;
    let world = Arc::new(world);
    let (db, wf, ss) = (&world.db, &world.wf, &world.ss);
    let a = world.connection;
    // B: another collection on another site's token, with room to spare.
    wf.add_token_with_limit(B_TOKEN, 100_000);
    let products_b = Products::add(wf, ss);
    let b_spec = ConnectionSpec {
        webflow_token: B_TOKEN.into(),
        rate_limit_per_min: 1000,
        ..products_b.spec(wf, ss, spec)
    };
    let b = suiteflow_test_support::fixtures::create_connection(
        db.url(),
        &suiteflow_test_support::fixtures::test_keys(),
        &b_spec,
    )
    .await;
    suiteflow_test_support::fixtures::set_mapping(db.url(), b, Products::mapping()).await;

    let mut env = stand_in_settings(db.url(), wf, ss);
    env.extend([
        ("INGRESS_ADDR".into(), "127.0.0.1:0".into()),
        ("WORKER_BATCH_SIZE".into(), "100".into()),
        ("WORKER_CONCURRENCY".into(), "100".into()),
    ]);
    let (ingress, stop_ingress) = suiteflow_load::start_ingress(env.clone())?;
    let source = Source::new(None, env).context("reading the settings")?;
    let mut r = Reader::new(&source);
    let settings = worker::Settings::read(&mut r);
    let settings = r.finish(|| settings).context("validating the settings")?;
    let store = Store::connect(&settings.database).await?;

    // A's backlog, queued before the worker starts (a backfill's events).
    let queued = Instant::now();
    {
        let mut conn = store.get().await?;
        let events: Vec<_> = (0..args.backlog)
            .map(|i| {
                let id = format!("a-{i}");
                let Value::Object(record) =
                    json!({"id": id, "title": format!("Backlog {i}"), "price": "1"})
                else {
                    unreachable!("a JSON object literal")
                };
                suiteflow_sync::backfill::record_event(a, &id, &record)
            })
            .collect();
        for chunk in events.chunks(500) {
            suiteflow_store::queue::enqueue_many(&mut conn, chunk).await?;
        }
    }
    println!(
        "  connection A: {} records queued in {:.1} s; Webflow token at {WEBFLOW_PER_MINUTE} requests/min",
        args.backlog,
        queued.elapsed().as_secs_f64()
    );
    println!(
        "  connection B: one signed webhook a second through the ingress, its own token; one worker, batch 100, for {} s",
        args.seconds
    );

    let worker = Arc::new(Worker::new(store.clone(), settings).with_client_options(
        ClientOptions {
            webflow_timeout: Duration::from_secs(10),
            ..ClientOptions::default()
        },
    ));
    let (stop, stop_rx) = watch::channel(false);
    let loop_task = {
        let worker = Arc::clone(&worker);
        tokio::spawn(async move {
            if let Err(e) = worker.run(stop_rx).await {
                eprintln!("worker loop ended with an error: {e}");
            }
        })
    };

    let started = Instant::now();
    let claimed_before = claimed_so_far();
    let a_before = wf.items(&world.products.collection).len();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let mut waits = Vec::new();
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    for n in 0..args.seconds {
        ticker.tick().await;
        let body = json!({
            "event_type": "record_created",
            "record_id": format!("b-{n}"),
            "data": {"title": format!("Trickle {n}"), "price": "2"},
        })
        .to_string();
        let status = http
            .post(format!("{ingress}/api/hooks/{}", b.0))
            .header("content-type", "application/json")
            .header("x-smartsuite-signature", sign(SECRET, body.as_bytes()))
            .header("x-idempotency-key", format!("b-{n}"))
            .body(body)
            .send()
            .await?
            .status()
            .as_u16();
        let accepted = Instant::now();
        if status != 202 {
            bail!("the ingress answered {status} to B's webhook {n}");
        }
        let (world, collection) = (Arc::clone(&world), products_b.collection.clone());
        let slug = format!("trickle-{n}");
        waits.push(tokio::spawn(async move {
            let give_up = accepted + Duration::from_secs(30);
            while Instant::now() < give_up {
                if world.wf.item_by_slug(&collection, &slug).is_some() {
                    return Some(accepted.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            None
        }));
    }
    let mut latencies = Vec::new();
    let mut lost = 0;
    for wait in waits {
        match wait.await? {
            Some(latency) => latencies.push(latency),
            None => lost += 1,
        }
    }
    let elapsed = started.elapsed();
    let a_written = wf.items(&world.products.collection).len() - a_before;
    let _ = stop.send(true);
    let _ = loop_task.await;
    let claims = claimed_so_far() - claimed_before;
    if claims < i64::try_from(a_written)? {
        bail!(
            "{claims} claims counted for {a_written} records written: worker_events_claimed_total is not what the worker counts"
        );
    }
    let throttled = wf.requests().iter().filter(|r| r.status == 429).count();
    stop_ingress();

    latencies.sort_unstable();
    let minutes = elapsed.as_secs_f64() / 60.0;
    let a_per_minute = a_written as f64 / minutes;
    let b_written = latencies.len();
    let a_claims = (claims - i64::try_from(b_written)?).max(0);
    let claims_per_write = a_claims as f64 / a_written.max(1) as f64;
    let p99 = quantile(&latencies, 0.99);
    println!(
        "  B: {b_written} of {} webhooks became items ({lost} not within 30 s): p50 {}  p99 {}  max {}",
        args.seconds,
        ms(quantile(&latencies, 0.5)),
        ms(p99),
        ms(latencies.last().copied().unwrap_or_default())
    );
    println!(
        "  A: {a_written} records written in {:.1} s = {a_per_minute:.0} records/min (ceiling: {WEBFLOW_PER_MINUTE} bulk calls of 100 = 6000/min)",
        elapsed.as_secs_f64()
    );
    println!(
        "  A: {a_claims} claims = {:.0} claims/min for {a_per_minute:.0} writes/min ({claims_per_write:.2} claims per write); Webflow answered 429 {throttled} times",
        a_claims as f64 / minutes
    );
    let b_ok = lost == 0 && p99 <= TARGET_B_P99;
    let a_ok = a_per_minute >= TARGET_A_PER_MINUTE;
    let claims_ok = claims_per_write <= TARGET_CLAIMS_PER_WRITE;
    println!(
        "  target: B p99 <= {}: {}  {}",
        ms(TARGET_B_P99),
        ms(p99),
        suiteflow_load::verdict(b_ok)
    );
    println!(
        "  target: A >= {TARGET_A_PER_MINUTE:.0} records/min: {a_per_minute:.0}  {}",
        suiteflow_load::verdict(a_ok)
    );
    println!(
        "  target: A's claims in proportion to its budget (<= {TARGET_CLAIMS_PER_WRITE} claims per write): {claims_per_write:.2}  {}",
        suiteflow_load::verdict(claims_ok)
    );
    println!("load average after: {}", load_average());
    if args.strict && !(b_ok && a_ok && claims_ok) {
        bail!("a target was missed (--strict)");
    }
    Ok(())
}

/// Events the worker of this process has claimed so far (`worker_events_claimed_total`; 0
/// before the first claim: a renamed metric fails the run instead).
fn claimed_so_far() -> i64 {
    i64::try_from(worker::metrics::counted("worker_events_claimed_total")).unwrap_or(i64::MAX)
}
