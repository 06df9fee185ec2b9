//! `just bench-ingress`: the real ingress in-process over a fresh database of the
//! durable test cluster, and a load generator sending correctly signed webhooks with unique
//! idempotency keys over many keep-alive connections for a fixed time. Reports accepted/s,
//! p50/p99 latency and errors, then checks that `events` holds exactly one row per 202.
//!
//! Run under `scripts/with-postgres.sh --durable` (see tests/load/README.md).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;
use suiteflow_load::{
    cpus, event_rows, install_crypto_provider, load_average, ms, quantile, require_cluster,
    server_setting, sign, verdict,
};
use suiteflow_settings::{Reader, Source};
use suiteflow_test_support::TestDb;
use suiteflow_test_support::fixtures::{ConnectionSpec, TEST_KEY, create_connection};

/// The targets: accepted webhooks per second and p99 latency.
const TARGET_ACCEPTED_PER_SEC: f64 = 5_000.0;
const TARGET_P99: Duration = Duration::from_millis(50);

#[derive(Parser, Debug)]
#[command(about = "Load benchmark of the ingress")]
struct Args {
    /// Seconds of measured load (bounded: 1..=120).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=120))]
    duration: u64,
    /// Concurrent client connections (1..=512).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=512))]
    connections: u64,
    /// Seconds of warm-up before measuring (connections, caches); its 202s are counted in the
    /// row check but not in the figures.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=30))]
    warmup: u64,
    /// Per-request timeout in milliseconds (a timeout counts as an error).
    #[arg(long, default_value_t = 5_000)]
    timeout_ms: u64,
    /// Exit non-zero when a target is missed (the row check always decides the exit status).
    #[arg(long)]
    strict: bool,
}

/// What one client connection saw.
#[derive(Default)]
struct Tally {
    accepted: u64,
    /// 202s sent during the warm-up (counted for the row check only).
    warmup_accepted: u64,
    other_status: Vec<u16>,
    transport_errors: u64,
    latencies: Vec<Duration>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    require_cluster()?;
    install_crypto_provider();

    let db = TestDb::new().await;
    let env = vec![
        ("DATABASE_URL".to_string(), db.url().to_string()),
        ("DATA_ENCRYPTION_KEY".to_string(), TEST_KEY.to_string()),
        ("INGRESS_ADDR".to_string(), "127.0.0.1:0".to_string()),
        ("LOG_LEVEL".to_string(), "warn".to_string()),
    ];
    let source = Source::new(None, env).context("reading the ingress settings")?;
    let mut reader = Reader::new(&source);
    let settings = ingress::Settings::read(&mut reader);
    let settings = reader
        .finish(|| settings)
        .context("validating the ingress settings")?;
    let keys = settings.keys.clone();
    let pool_size = settings.database.pool_size;
    let app = ingress::Application::build(settings)?;
    let base = format!("http://{}", app.addr());
    let handle = app.handle();
    let server = tokio::spawn(app.run_until_stopped());

    let spec = ConnectionSpec::default();
    let secret = Arc::new(spec.webhook_secret.clone());
    let connection = create_connection(db.url(), &keys, &spec).await;
    let url = Arc::new(format!("{base}/api/hooks/{}", connection.0));

    let synchronous_commit = server_setting(db.url(), "synchronous_commit").await?;
    let fsync = server_setting(db.url(), "fsync").await?;
    println!("bench-ingress");
    println!(
        "  setup: ingress in-process at {base}, {} client connections, {} s measured after {} s warm-up",
        args.connections, args.duration, args.warmup
    );
    println!(
        "  PostgreSQL: synchronous_commit={synchronous_commit} fsync={fsync}; ingress pool {pool_size}; {} CPUs; load average before: {}",
        cpus(),
        load_average()
    );
    if synchronous_commit != "on" {
        println!(
            "  WARNING: synchronous_commit is not on: run under scripts/with-postgres.sh --durable"
        );
    }

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(usize::try_from(args.connections)?)
        .timeout(Duration::from_millis(args.timeout_ms))
        .http1_only()
        .build()?;

    let started = Instant::now();
    let measure_from = started + Duration::from_secs(args.warmup);
    let deadline = measure_from + Duration::from_secs(args.duration);
    let tasks: Vec<_> = (0..args.connections)
        .map(|client| {
            let http = http.clone();
            let url = Arc::clone(&url);
            let secret = Arc::clone(&secret);
            tokio::spawn(async move {
                let mut tally = Tally::default();
                let mut n: u64 = 0;
                while Instant::now() < deadline {
                    n += 1;
                    let record = format!("rec-{client}-{n}");
                    let body = serde_json::json!({
                        "event_type": "record_updated",
                        "record_id": record,
                        "data": {"title": format!("Item {client}-{n}"), "price": "12.50"},
                    })
                    .to_string();
                    let signature = sign(&secret, body.as_bytes());
                    let sent = Instant::now();
                    let reply = http
                        .post(url.as_str())
                        .header("content-type", "application/json")
                        .header("x-smartsuite-signature", signature)
                        .header("x-idempotency-key", format!("bench-{client}-{n}"))
                        .body(body)
                        .send()
                        .await;
                    let measured = sent >= measure_from;
                    match reply {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            // Read the body so the connection goes back to the pool.
                            let _ = response.bytes().await;
                            let latency = sent.elapsed();
                            match (status, measured) {
                                (202, true) => {
                                    tally.accepted += 1;
                                    tally.latencies.push(latency);
                                }
                                (202, false) => tally.warmup_accepted += 1,
                                (other, _) => tally.other_status.push(other),
                            }
                        }
                        Err(_) => tally.transport_errors += 1,
                    }
                }
                tally
            })
        })
        .collect();

    let mut total = Tally::default();
    for task in futures::future::join_all(tasks).await {
        let tally = task.context("a client task panicked")?;
        total.accepted += tally.accepted;
        total.warmup_accepted += tally.warmup_accepted;
        total.other_status.extend(tally.other_status);
        total.transport_errors += tally.transport_errors;
        total.latencies.extend(tally.latencies);
    }
    // Requests started before the deadline may finish after it: the measured span is from the
    // end of the warm-up to the last response.
    let elapsed = measure_from.elapsed();
    let load_after = load_average();
    handle.stop(true).await;
    let _ = server.await;

    total.latencies.sort_unstable();
    let errors = total.other_status.len() as u64 + total.transport_errors;
    let accepted_per_sec = total.accepted as f64 / elapsed.as_secs_f64();
    let p50 = quantile(&total.latencies, 0.50);
    let p99 = quantile(&total.latencies, 0.99);
    let max = total.latencies.last().copied().unwrap_or_default();
    let rows = event_rows(db.url()).await?;
    let all_accepted = total.accepted + total.warmup_accepted;

    println!("results ({:.2} s measured):", elapsed.as_secs_f64());
    println!("  accepted (202):   {}", total.accepted);
    println!("  accepted/s:       {accepted_per_sec:.0}");
    println!(
        "  latency:          p50 {}  p99 {}  max {}",
        ms(p50),
        ms(p99),
        ms(max)
    );
    let mut statuses = total.other_status.clone();
    statuses.sort_unstable();
    statuses.dedup();
    println!(
        "  errors:           {errors} (non-202 responses {} with statuses {statuses:?}, transport/timeouts {})",
        total.other_status.len(),
        total.transport_errors
    );
    println!("  load average after: {load_after}");
    println!(
        "target (server, PostgreSQL with synchronous_commit on and generator on one 2-core machine):"
    );
    let rate_ok = accepted_per_sec >= TARGET_ACCEPTED_PER_SEC;
    let p99_ok = p99 <= TARGET_P99;
    let errors_ok = errors == 0;
    println!(
        "  accepted/s >= {TARGET_ACCEPTED_PER_SEC:.0}: {accepted_per_sec:.0}  {}",
        verdict(rate_ok)
    );
    println!(
        "  p99 <= {}: {}  {}",
        ms(TARGET_P99),
        ms(p99),
        verdict(p99_ok)
    );
    println!("  errors == 0: {errors}  {}", verdict(errors_ok));
    let rows_ok = i64::try_from(all_accepted).ok() == Some(rows);
    println!(
        "row check: rows in events {rows}, 202s {all_accepted} (incl. {} during warm-up)  {}",
        total.warmup_accepted,
        if rows_ok { "OK" } else { "MISMATCH" }
    );
    if !rows_ok {
        bail!("events holds {rows} rows but {all_accepted} requests were answered 202");
    }
    if args.strict && !(rate_ok && p99_ok && errors_ok) {
        bail!("a target was missed (--strict)");
    }
    Ok(())
}
