//! `just demo`: the whole pipeline on this machine, with no accounts.
//!
//! Runs inside `scripts/with-postgres.sh` (a private PostgreSQL). Starts the SmartSuite and
//! Webflow stand-ins, with a table of records and a collection that already holds some of
//! them (a site built before the sync), creates a demo connection and mapping, and starts the
//! real `ingress` and `worker` binaries. Then, with the real `suiteflow` CLI:
//!
//! 1. first contact: `backfill --dry-run` prints the plan, `backfill` carries it out, and the
//!    items already there are adopted (no `-1` copies);
//! 2. a change made in SmartSuite reaches Webflow the way SmartSuite sends it: a notification
//!    ping, then the worker pulls `ListEvents`;
//! 3. a signed push (a delete) does the same from a sender that signs.
//!
//! It prints the Webflow items after each step and stops everything. `--keep` leaves it
//! running until Ctrl-C, with the operators' console (`suiteflow console`) on the demo's data;
//! it prints the console's URL and the demo password.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a dev-only demo: failing loudly is right

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use suiteflow_crypto::SecretString;
use suiteflow_test_support::fixtures::{
    ConnectionSpec, Products, ProductsWorld, stand_in_settings,
};
use suiteflow_test_support::process::{free_port, terminate};
use suiteflow_test_support::webflow::{WebflowConfig, WebflowStandIn};

const SECRET: &str = "demo-webhook-secret";
/// The console's password in the demo (never a real deployment's).
const CONSOLE_PASSWORD: &str = "demo";

#[tokio::main]
async fn main() {
    let keep = std::env::args().any(|a| a == "--keep");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let started = Instant::now();

    let mut mapping = Products::mapping();
    mapping["fieldMap"]["category"] = json!({"type": "direct", "source": "category"});
    let spec = ConnectionSpec {
        webhook_secret: SECRET.into(),
        ..ConnectionSpec::default()
    };
    let ProductsWorld {
        db,
        wf,
        ss,
        products,
        connection,
    } = ProductsWorld::start(WebflowConfig::default(), spec, mapping).await;
    let collection = products.collection;
    let id = connection.0.to_string();
    println!("connection {id}  (SmartSuite table → Webflow collection {collection})");

    // The table, and a site built before the sync: two of the records already have their item
    // (one with an older price), and one item belongs to no record.
    let records = ss.insert_records(
        &products.table,
        vec![
            json!({"title": "Oak Chair", "price": "120", "category": "c1"}),
            json!({"title": "Walnut Table", "price": "640", "category": "c2"}),
            json!({"title": "Pine Stool", "price": "45", "category": "c1"}),
            json!({"title": "Birch Shelf", "price": "210", "category": "c2"}),
        ],
    );
    let option = |name: &str| wf.option_id(&collection, "category", name).unwrap();
    wf.seed_items(
        &collection,
        vec![
            json!({"name": "Oak Chair", "slug": "oak-chair", "price": 120, "category": option("Chairs")}),
            json!({"name": "Walnut Table", "slug": "walnut-table", "price": 600, "category": option("Tables")}),
            json!({"name": "Old Lamp", "slug": "old-lamp", "price": 30}),
        ],
        true,
    )
    .unwrap();

    let ingress_port = free_port();
    let metrics_port = free_port();
    let mut env = stand_in_settings(db.url(), &wf, &ss);
    env.extend(
        [
            ("INGRESS_ADDR", format!("127.0.0.1:{ingress_port}")),
            ("WORKER_METRICS_ADDR", format!("127.0.0.1:{metrics_port}")),
            ("APP_URL", format!("http://127.0.0.1:{ingress_port}")),
            ("LOG_LEVEL", "warn".to_string()),
            ("PRETTY_LOGS", "true".to_string()),
        ]
        .map(|(name, value)| (name.to_string(), value)),
    );
    let mut ingress = spawn("ingress", &env);
    let mut worker = spawn("worker", &env);
    let base = format!("http://127.0.0.1:{ingress_port}");
    let http = reqwest::Client::new();
    wait_ready(&http, &format!("{base}/readyz")).await;
    println!("ingress on {base}, worker metrics on http://127.0.0.1:{metrics_port}/metrics");

    println!("\n== 1. First contact: the collection already holds items\n");
    print_items(&wf, &collection);
    cli(&env, &["backfill", &id, "--dry-run"]);
    cli(&env, &["backfill", &id]);
    wait_for(Duration::from_secs(20), || {
        price_of(&wf, &collection, "walnut-table") == Some(640.0)
            && price_of(&wf, &collection, "birch-shelf").is_some()
            && price_of(&wf, &collection, "pine-stool").is_some()
    })
    .await;
    print_items(&wf, &collection);

    println!("\n== 2. A change made in SmartSuite: notify, then pull\n");
    cli(&env, &["connection", "register-webhook", &id]);
    ss.update_record(&products.table, &records[0], json!({"price": "99"}));
    println!("SmartSuite: Oak Chair's price set to 99 (SmartSuite pings the ingress)");
    wait_for(Duration::from_secs(20), || {
        price_of(&wf, &collection, "oak-chair") == Some(99.0)
    })
    .await;
    println!("the worker pulled SmartSuite's ListEvents and wrote the change");
    print_items(&wf, &collection);

    println!("\n== 3. A signed push\n");
    let body =
        json!({"event_type": "record_deleted", "record_id": records[2], "data": {}}).to_string();
    let signature =
        suiteflow_webhook_security::sign_hmac(&SecretString::new(SECRET), body.as_bytes());
    let response = http
        .post(format!("{base}/api/hooks/{id}"))
        .header("x-smartsuite-signature", signature)
        .header("x-idempotency-key", "demo-delete")
        .body(body)
        .send()
        .await
        .expect("webhook sent");
    println!("POST record_deleted  Pine Stool  → {}", response.status());
    wait_for(Duration::from_secs(20), || {
        item(&wf, &collection, "pine-stool").is_some_and(|i| i["isArchived"] == true)
    })
    .await;
    print_items(&wf, &collection);

    let writes = wf.requests().iter().filter(|r| r.method != "GET").count();
    let items = wf.items(&collection);
    let mut names: Vec<&str> = items
        .iter()
        .filter_map(|i| i["fieldData"]["name"].as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    println!(
        "\n{} records into a collection that held 3 items: {} items, {} duplicates; {writes} \
         Webflow writes in {:.1} s",
        records.len(),
        items.len(),
        items.len() - names.len(),
        started.elapsed().as_secs_f64()
    );

    if keep {
        let port = free_port();
        let hash = bcrypt::hash(CONSOLE_PASSWORD, bcrypt::DEFAULT_COST).unwrap();
        let mut console_env = env.clone();
        console_env.extend([
            ("CONSOLE_ADDR".to_string(), format!("127.0.0.1:{port}")),
            ("DASHBOARD_PASSWORD_HASH".to_string(), hash),
        ]);
        let mut console = spawn_args("suiteflow", &["console"], &console_env);
        let url = format!("http://127.0.0.1:{port}");
        wait_ready(&http, &format!("{url}/healthz")).await;
        println!("\nconsole on {url}  (password: {CONSOLE_PASSWORD})");
        println!("Still running (--keep). Press Ctrl-C to stop.");
        let _ = tokio::signal::ctrl_c().await;
        stop(&mut console, "console");
    }
    stop(&mut ingress, "ingress");
    stop(&mut worker, "worker");
}

/// Runs the `suiteflow` CLI built beside the demo, printing the command and what it printed.
fn cli(env: &[(String, String)], args: &[&str]) {
    println!("$ suiteflow {}", args.join(" "));
    let output = Command::new(sibling("suiteflow"))
        .args(args)
        .envs(env.iter().cloned())
        .output()
        .expect("suiteflow runs");
    print!("{}", String::from_utf8_lossy(&output.stdout));
    if !output.status.success() {
        panic!(
            "suiteflow {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    println!();
}

fn item(wf: &WebflowStandIn, collection: &str, slug: &str) -> Option<Value> {
    wf.items(collection)
        .into_iter()
        .find(|i| i["fieldData"]["slug"] == slug)
}

fn price_of(wf: &WebflowStandIn, collection: &str, slug: &str) -> Option<f64> {
    item(wf, collection, slug).and_then(|i| i["fieldData"]["price"].as_f64())
}

fn print_items(wf: &WebflowStandIn, collection: &str) {
    println!("Webflow items:");
    println!(
        "  {:<24} {:<14} {:<14} {:>7} {:<9} {:<6} {:<8}",
        "id", "slug", "name", "price", "category", "live", "archived"
    );
    for item in wf.items(collection) {
        let field = &item["fieldData"];
        let category = field["category"]
            .as_str()
            .and_then(|id| {
                ["Chairs", "Tables"]
                    .into_iter()
                    .find(|n| wf.option_id(collection, "category", n).as_deref() == Some(id))
            })
            .unwrap_or("");
        println!(
            "  {:<24} {:<14} {:<14} {:>7} {:<9} {:<6} {:<8}",
            item["id"].as_str().unwrap_or(""),
            field["slug"].as_str().unwrap_or(""),
            field["name"].as_str().unwrap_or(""),
            field["price"].to_string(),
            category,
            !item["isDraft"].as_bool().unwrap_or(true),
            item["isArchived"].as_bool().unwrap_or(false),
        );
    }
    println!();
}

async fn wait_for(limit: Duration, check: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("warning: a change did not reach Webflow within {limit:?}");
}

async fn wait_ready(http: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if http
            .get(url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} did not answer within 20 s");
}

/// A binary built beside the demo by `just demo`.
fn sibling(name: &str) -> std::path::PathBuf {
    std::env::current_exe()
        .expect("own path")
        .with_file_name(name)
}

/// Starts a sibling binary with the demo's environment.
fn spawn(name: &str, env: &[(String, String)]) -> Child {
    spawn_args(name, &[], env)
}

/// Starts a sibling binary with `args` and the demo's environment.
fn spawn_args(name: &str, args: &[&str], env: &[(String, String)]) -> Child {
    let path = sibling(name);
    Command::new(&path)
        .args(args)
        .envs(env.iter().cloned())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {}: {e} (run `just demo`, which builds it)",
                path.display()
            )
        })
}

fn stop(child: &mut Child, name: &str) {
    match terminate(child, Duration::from_secs(15)) {
        Some(status) => println!("{name} stopped ({status})"),
        None => println!("{name} killed after 15 s"),
    }
}
