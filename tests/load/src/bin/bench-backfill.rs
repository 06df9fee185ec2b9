//! `just bench-backfill`: first contact at scale. A SmartSuite table of N records and a Webflow
//! collection that already holds the same N items (each with an older price, so every one needs
//! its update), a connection at 60 Webflow requests per minute, and the backfill the CLI runs
//! (the sync engine's plan, then carrying it out), followed by the worker draining what it
//! queued. Counts the Webflow calls by kind and the time they took.
//!
//! Run under `scripts/with-postgres.sh --durable` (see tests/load/README.md).

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;
use serde_json::json;
use suiteflow_load::{install_crypto_provider, load_average, require_cluster, verdict};
use suiteflow_settings::{Reader, Source};
use suiteflow_store::Store;
use suiteflow_sync::Connector;
use suiteflow_test_support::fixtures::{
    ConnectionSpec, Products, ProductsWorld, stand_in_settings,
};
use suiteflow_test_support::webflow::WebflowConfig;
use worker::Worker;

/// Webflow's limit, per minute, for the stand-in and the connection.
const WEBFLOW_PER_MINUTE: u32 = 60;
/// The targets for 5,000 records: no create, at most one read per 100 items and one bulk
/// update per 100 items, within two minutes of the Webflow budget.
const TARGET_BUDGET_MINUTES: f64 = 2.0;

#[derive(Parser, Debug)]
#[command(about = "Backfill into a collection that already holds the items")]
struct Args {
    /// Records in the table (and items in the collection).
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..=20_000))]
    records: u64,
    /// Upper bound, in seconds, of the whole run.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=1800))]
    max_seconds: u64,
    /// Exit non-zero when a target is missed.
    #[arg(long)]
    strict: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    require_cluster()?;
    install_crypto_provider();
    println!("bench-backfill; load average before: {}", load_average());
    let n = usize::try_from(args.records)?;
    let spec = ConnectionSpec {
        rate_limit_per_min: i32::try_from(WEBFLOW_PER_MINUTE)?,
        retry_backoff_ms: 100,
        ..ConnectionSpec::default()
    };
    let webflow = WebflowConfig {
        rate_limit: WEBFLOW_PER_MINUTE,
        rate_window: Duration::from_secs(60),
        ..WebflowConfig::default()
    };
    let world = ProductsWorld::start(webflow, spec, Products::mapping()).await;
    let (wf, ss) = (&world.wf, &world.ss);
    // Both stand-ins are filled directly (no API calls): the site was built before the sync.
    ss.set_rate_limit(1_000, Duration::from_secs(30));
    let titles: Vec<String> = (0..n).map(|i| format!("Product {i:05}")).collect();
    ss.insert_records(
        &world.products.table,
        titles
            .iter()
            .map(|t| json!({"title": t, "price": "20"}))
            .collect(),
    );
    for chunk in titles.chunks(100) {
        let items = chunk
            .iter()
            .map(|t| json!({"name": t, "slug": t.to_lowercase().replace(' ', "-"), "price": 10}))
            .collect();
        wf.seed_items(&world.products.collection, items, true)
            .map_err(|e| anyhow::anyhow!("seeding the collection: {e}"))?;
    }
    wf.clear_requests();
    println!(
        "{n} SmartSuite records; the Webflow collection already holds the same {n} items, each \
         with an older price. Webflow: {WEBFLOW_PER_MINUTE} requests/min (stand-in and connection)."
    );

    let mut env = stand_in_settings(world.db.url(), wf, ss);
    env.extend([
        ("WORKER_BATCH_SIZE".into(), "100".into()),
        ("WORKER_CONCURRENCY".into(), "100".into()),
    ]);
    let source = Source::new(None, env).context("reading the settings")?;
    let mut r = Reader::new(&source);
    let settings = worker::Settings::read(&mut r);
    let settings = r.finish(|| settings).context("validating the settings")?;
    let store = Store::connect(&settings.database).await?;
    let connector = Connector::new(settings.keys.clone(), settings.api.clone());
    let connection = {
        let mut conn = store.get().await?;
        suiteflow_store::get_connection(&mut conn, world.connection)
            .await?
            .context("the connection")?
    };
    let mapping = {
        let mut conn = store.get().await?;
        suiteflow_store::get_mapping(&mut conn, world.connection)
            .await?
            .context("the mapping")?
    };

    let started = Instant::now();
    let plan = suiteflow_sync::backfill::plan(
        &store,
        &connector,
        &connection,
        &mapping,
        1000,
        &mut |_, _| {},
    )
    .await
    .map_err(|e| anyhow::anyhow!("planning: {e}"))?;
    let planned_in = started.elapsed();
    let counts = plan.counts();
    println!(
        "plan in {:.1} s: create {}, adopt {}, update {}, unchanged {}, orphans {}",
        planned_in.as_secs_f64(),
        counts.create,
        counts.adopt,
        counts.update,
        counts.unchanged,
        counts.orphans
    );
    let applied = suiteflow_sync::backfill::apply(
        &store,
        &connector,
        suiteflow_sync::admin::Actor::Cli,
        &connection,
        &plan,
        false,
        200,
    )
    .await
    .map_err(|e| anyhow::anyhow!("carrying out the plan: {e}"))?;
    println!(
        "carried out: {} adopted, {} queued",
        applied.adopted, applied.enqueued
    );

    let worker = Worker::new(store.clone(), settings);
    let deadline = started + Duration::from_secs(args.max_seconds);
    loop {
        worker.run_until_empty().await?;
        let waiting = {
            let mut conn = store.get().await?;
            let stats =
                suiteflow_store::queue::count_by_status_of(&mut conn, world.connection, None)
                    .await?;
            stats
                .iter()
                .filter(|(s, _)| {
                    matches!(
                        s,
                        suiteflow_store::EventStatus::Queued | suiteflow_store::EventStatus::Failed
                    )
                })
                .map(|(_, n)| n)
                .sum::<i64>()
        };
        if waiting == 0 {
            break;
        }
        if Instant::now() > deadline {
            bail!(
                "{waiting} events still waiting after {} s",
                args.max_seconds
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let elapsed = started.elapsed();

    let requests = wf.requests();
    let creates = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.contains("/items"))
        .count();
    let item_reads = requests
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains("/items"))
        .count();
    let schema_reads = requests
        .iter()
        .filter(|r| r.method == "GET" && !r.path.contains("/items"))
        .count();
    let bulk_updates = requests
        .iter()
        .filter(|r| r.method == "PATCH" && r.body.get("items").is_some())
        .count();
    let other_writes = requests
        .iter()
        .filter(|r| r.method != "GET" && !(r.method == "PATCH" && r.body.get("items").is_some()))
        .count();
    let refused = requests.iter().filter(|r| r.status == 429).count();
    let calls = requests.len();
    let budget_minutes = calls as f64 / f64::from(WEBFLOW_PER_MINUTE);
    let items = wf.items(&world.products.collection);
    let updated = items
        .iter()
        .filter(|i| i["fieldData"]["price"].as_f64() == Some(20.0))
        .count();

    let hundreds = n.div_ceil(100);
    let no_create = creates == 0 && items.len() == n;
    let reads_ok = item_reads <= hundreds;
    let updates_ok = bulk_updates <= hundreds && updated == n;
    let budget_ok = budget_minutes <= TARGET_BUDGET_MINUTES * (n as f64 / 5_000.0).max(1.0);
    println!("\nWebflow calls: {calls} in all ({refused} answered 429)");
    println!(
        "  creates        {creates:>6}   target 0; items in the collection {} (= {n})   {}",
        items.len(),
        verdict(no_create)
    );
    println!(
        "  item reads     {item_reads:>6}   target ≤ {hundreds} (one per 100 items)   {}",
        verdict(reads_ok)
    );
    println!(
        "  bulk updates   {bulk_updates:>6}   target ≤ {hundreds}; items updated {updated} (= {n})   {}",
        verdict(updates_ok)
    );
    println!("  schema reads   {schema_reads:>6}   (the collection's fields, once per client)");
    println!("  other writes   {other_writes:>6}");
    println!(
        "  budget used    {budget_minutes:>6.2} min at {WEBFLOW_PER_MINUTE}/min   target ≤ {TARGET_BUDGET_MINUTES:.0} min for 5,000 records   {}",
        verdict(budget_ok)
    );
    println!(
        "  wall time      {:>6.1} s (plan {:.1} s); a naive backfill would have made {n} creates (and {n} duplicates)",
        elapsed.as_secs_f64(),
        planned_in.as_secs_f64()
    );
    println!("load average after: {}", load_average());
    if args.strict && !(no_create && reads_ok && updates_ok && budget_ok) {
        bail!("a target was missed (--strict)");
    }
    Ok(())
}
