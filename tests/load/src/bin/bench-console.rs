//! `just bench-console`: the console's pages over a large events table.
//!
//! Fills `events` with 1,000,000 rows (by default) spread over a week and two connections (96 %
//! written, 2 % dead-lettered, 1 % skipped, 1 % waiting), and vacuums it as autovacuum would
//! have. Then, logged in over loopback
//! HTTP, it times each page a number of times and reports p50 and p99 against the target:
//! every page renders in ≤ 50 ms.
//!
//! The overview's figures are built at most every 5 s (they are the gauges' queries), so the
//! page is mostly served from that cache; the build itself is timed too, directly, because a
//! cache miss is what the unlucky viewer waits for.
//!
//! Run under `scripts/with-postgres.sh --durable`.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;
use diesel::sql_types::{BigInt, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use reqwest::header::{COOKIE, SET_COOKIE};
use suiteflow_console::{Console, ConsoleSettings};
use suiteflow_load::{install_crypto_provider, load_average, ms, quantile, require_cluster};
use suiteflow_settings::{Reader, Source};
use suiteflow_store::{DatabaseConfig, Store};
use suiteflow_test_support::fixtures::{
    ConnectionSpec, Products, ProductsWorld, stand_in_settings,
};
use suiteflow_test_support::webflow::WebflowConfig;

const TARGET: Duration = Duration::from_millis(50);
const PASSWORD: &str = "bench-console-password";
/// Rows inserted per statement.
const CHUNK: i64 = 100_000;

#[derive(Parser, Debug)]
#[command(about = "The console's pages over a large events table")]
struct Args {
    /// Events in the table.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(i64).range(10_000..=5_000_000))]
    events: i64,
    /// Requests per page (after 5 to warm up).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(5..=1000))]
    samples: u64,
    /// Exit non-zero when a target is missed.
    #[arg(long)]
    strict: bool,
    /// Keep the filled database (its URL printed) until Ctrl-C, to look at query plans.
    #[arg(long)]
    hold: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    require_cluster()?;
    install_crypto_provider();
    println!("bench-console; load average before: {}", load_average());

    let world = ProductsWorld::start(
        WebflowConfig::default(),
        ConnectionSpec::default(),
        Products::mapping(),
    )
    .await;
    let b = world
        .products
        .connect(
            world.db.url(),
            &world.wf,
            &world.ss,
            ConnectionSpec::default(),
            Products::mapping(),
        )
        .await;
    let store = store(world.db.url()).await?;
    let filled = Instant::now();
    fill(&store, world.connection, b, args.events).await?;
    println!(
        "{} events inserted and analysed in {:.1} s",
        args.events,
        filled.elapsed().as_secs_f64()
    );

    let mut env = stand_in_settings(world.db.url(), &world.wf, &world.ss);
    env.push(("CONSOLE_ADDR".into(), "127.0.0.1:0".into()));
    env.push(("DASHBOARD_PASSWORD_HASH".into(), bcrypt::hash(PASSWORD, 4)?));
    env.push(("LOG_LEVEL".into(), "warn".into()));
    let source = Source::new(None, env).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut r = Reader::new(&source);
    let settings = ConsoleSettings::read(&mut r);
    let settings = r.finish(|| settings).map_err(|e| anyhow::anyhow!("{e}"))?;
    let console = Console::build(settings)?;
    let base = format!("http://{}", console.addr());
    tokio::spawn(console.run_until_stopped());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let cookie = login(&http, &base).await?;

    // A page deep in the dead letters: the cursor of the 100,000th newest event.
    let cursor = {
        let mut conn = store.get().await?;
        #[derive(diesel::QueryableByName)]
        struct Seq {
            #[diesel(sql_type = BigInt)]
            seq: i64,
        }
        diesel::sql_query("SELECT seq FROM events ORDER BY seq DESC OFFSET 100000 LIMIT 1")
            .get_result::<Seq>(&mut conn)
            .await?
            .seq
    };
    let a = world.connection;
    let pages = [
        ("overview", "/".to_string()),
        ("events, no filter", "/events".to_string()),
        (
            "events of a connection, dead-lettered",
            format!("/events?connection={b}&status=dead_letter"),
        ),
        (
            "events of a connection, of a type",
            format!("/events?connection={a}&type=record_created"),
        ),
        ("events of a record", "/events?record=rec-4242".to_string()),
        (
            "events dead-lettered, a page 100,000 events back",
            format!("/events?status=dead_letter&cursor={cursor}"),
        ),
        (
            "API: events of a connection, dead-lettered",
            format!("/api/v1/events?connection={b}&status=dead_letter"),
        ),
        ("a connection's page", format!("/connections/{a}")),
    ];

    println!(
        "\n{:<50} {:>10} {:>10}   target p99 ≤ {}",
        "page",
        "p50",
        "p99",
        ms(TARGET)
    );
    let mut missed = Vec::new();
    let overview_build = time(args.samples, || async {
        suiteflow_console::views::overview(&store)
            .await
            .map(drop)
            .map_err(|e| anyhow::anyhow!("{e}"))
    })
    .await?;
    report(
        "overview figures, built (a cache miss)",
        &overview_build,
        &mut missed,
    );
    // The filtered lists time real pages of events, not an empty answer.
    for path in [
        format!("/api/v1/events?connection={b}&status=dead_letter"),
        format!("/api/v1/events?connection={a}&type=record_created"),
        "/api/v1/events?record=rec-4242".to_string(),
    ] {
        let page: serde_json::Value = http
            .get(format!("{base}{path}"))
            .header(COOKIE, &cookie)
            .send()
            .await?
            .json()
            .await?;
        if page["events"].as_array().is_none_or(Vec::is_empty) {
            bail!("{path} lists no event: the data does not exercise the page");
        }
    }
    for (name, path) in &pages {
        let url = format!("{base}{path}");
        let samples = time(args.samples, || async {
            let response = http.get(&url).header(COOKIE, &cookie).send().await?;
            let status = response.status();
            let body = response.bytes().await?;
            if !status.is_success() {
                bail!("{url}: {status}: {}", String::from_utf8_lossy(&body));
            }
            Ok(())
        })
        .await?;
        report(name, &samples, &mut missed);
    }
    println!("\nload average after: {}", load_average());
    if args.hold {
        println!("holding {} until Ctrl-C", world.db.url());
        tokio::signal::ctrl_c().await?;
    }
    if missed.is_empty() {
        println!("every page met its target");
    } else {
        println!("missed: {}", missed.join(", "));
        if args.strict {
            bail!("targets missed");
        }
    }
    Ok(())
}

async fn store(url: &str) -> anyhow::Result<Store> {
    let source = Source::new(None, vec![("DATABASE_URL".to_string(), url.to_string())])
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut r = Reader::new(&source);
    let config = DatabaseConfig::read(&mut r, "bench-console");
    let config = r.finish(|| config).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Store::connect(&config).await?)
}

/// `n` events, one every 0.6 s back from now (a week for a million); one in ten is `b`'s.
async fn fill(
    store: &Store,
    a: suiteflow_store::ConnectionId,
    b: suiteflow_store::ConnectionId,
    n: i64,
) -> anyhow::Result<()> {
    let mut conn = store.get().await?;
    let mut from = 0;
    while from < n {
        let to = (from + CHUNK).min(n);
        diesel::sql_query(
            "INSERT INTO events (connection_id, kind, external_id, event_type, idempotency_key,
                                 payload, status, attempts, queued_at, started_at, processed_at,
                                 error, duration_ms)
             SELECT CASE WHEN i % 10 = 0 THEN $2 ELSE $1 END,
                    'record',
                    'rec-' || (i % 50000),
                    CASE WHEN i % 3 = 0 THEN 'record_created' ELSE 'record_updated' END,
                    'bench-' || i,
                    jsonb_build_object('record', 'rec-' || (i % 50000)),
                    s.status::event_status,
                    CASE WHEN s.status = 'queued' THEN 0 ELSE 1 END,
                    now() - make_interval(secs => ($3 - i) * 0.6),
                    CASE WHEN s.status = 'queued' THEN NULL ELSE now() - make_interval(secs => ($3 - i) * 0.6 - 1) END,
                    CASE WHEN s.status = 'queued' THEN NULL ELSE now() - make_interval(secs => ($3 - i) * 0.6 - 1) END,
                    CASE WHEN s.status = 'dead_letter' THEN 'Webflow answered 400: validation error' END,
                    CASE WHEN s.status = 'queued' THEN NULL ELSE 240 END
             FROM generate_series($4, $5 - 1) AS i,
                  -- The status by i / 10, so both connections (b holds i % 10 = 0) get the mix.
                  LATERAL (SELECT CASE WHEN (i / 10) % 100 < 96 THEN 'success'
                                       WHEN (i / 10) % 100 < 98 THEN 'dead_letter'
                                       WHEN (i / 10) % 100 < 99 THEN 'skipped'
                                       ELSE 'queued' END AS status) AS s",
        )
        .bind::<SqlUuid, _>(a.0)
        .bind::<SqlUuid, _>(b.0)
        .bind::<BigInt, _>(n)
        .bind::<BigInt, _>(from)
        .bind::<BigInt, _>(to)
        .execute(&mut conn)
        .await
        .with_context(|| format!("inserting events {from}..{to}"))?;
        from = to;
    }
    diesel::sql_query("VACUUM ANALYZE events")
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// Logs in through the form; returns the session cookie.
async fn login(http: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let form = http.get(format!("{base}/login")).send().await?;
    let cookie = session_cookie(&form);
    let body = form.text().await?;
    let marker = r#"name="csrf" value=""#;
    let start = body.find(marker).context("no csrf field on /login")? + marker.len();
    let csrf = body[start..].split('"').next().unwrap_or_default();
    let mut request = http
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("password={PASSWORD}&csrf={csrf}"));
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    let response = request.send().await?;
    if response.status() != reqwest::StatusCode::SEE_OTHER {
        bail!("login answered {}", response.status());
    }
    session_cookie(&response).context("no session cookie after login")
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .next_back()
        .map(str::to_string)
}

/// Runs `f` 5 times to warm up, then `n` times; the sorted durations.
async fn time<F, Fut>(n: u64, f: F) -> anyhow::Result<Vec<Duration>>
where
    F: Fn() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    for _ in 0..5 {
        f().await?;
    }
    let mut samples = Vec::new();
    for _ in 0..n {
        let started = Instant::now();
        f().await?;
        samples.push(started.elapsed());
    }
    samples.sort_unstable();
    Ok(samples)
}

fn report(name: &str, samples: &[Duration], missed: &mut Vec<String>) {
    let p99 = quantile(samples, 0.99);
    let verdict = if p99 <= TARGET { "met" } else { "MISSED" };
    println!(
        "{name:<50} {:>10} {:>10}   {verdict}",
        ms(quantile(samples, 0.5)),
        ms(p99)
    );
    if p99 > TARGET {
        missed.push(name.to_string());
    }
}
