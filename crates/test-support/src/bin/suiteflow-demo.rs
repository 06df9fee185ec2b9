//! `just demo`: the whole pipeline on this machine, with no accounts.
//!
//! Runs inside `scripts/with-postgres.sh` (a private PostgreSQL). Starts the SmartSuite and
//! Webflow stand-ins, creates a demo connection and mapping, starts the real `ingress` and
//! `worker` binaries, sends signed webhooks (create, update, delete), prints the resulting
//! Webflow items, and stops everything. `--keep` leaves it running until Ctrl-C.

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
    println!(
        "connection {}  (SmartSuite table → Webflow collection {collection})",
        connection.0
    );

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
    println!("ingress on {base}, worker metrics on http://127.0.0.1:{metrics_port}/metrics\n");

    let hooks = [
        (
            "record_created",
            "rec_1",
            json!({"title": "Oak Chair", "price": "120", "category": "c1"}),
        ),
        (
            "record_created",
            "rec_2",
            json!({"title": "Walnut Table", "price": "640", "category": "c2"}),
        ),
        (
            "record_created",
            "rec_3",
            json!({"title": "Pine Stool", "price": "45", "category": "c1"}),
        ),
        (
            "record_updated",
            "rec_1",
            json!({"title": "Oak Chair", "price": "99", "category": "c1"}),
        ),
        ("record_deleted", "rec_3", json!({})),
    ];
    for (n, (event_type, record, data)) in hooks.iter().enumerate() {
        let body = json!({"event_type": event_type, "record_id": record, "data": data}).to_string();
        let signature =
            suiteflow_webhook_security::sign_hmac(&SecretString::new(SECRET), body.as_bytes());
        let response = http
            .post(format!("{base}/api/hooks/{}", connection.0))
            .header("x-smartsuite-signature", signature)
            .header("x-idempotency-key", format!("demo-{n}"))
            .body(body)
            .send()
            .await
            .expect("webhook sent");
        println!("POST {event_type:<15} {record}  → {}", response.status());
        // Let each change land before the next so the demo shows every step.
        wait_for(Duration::from_secs(20), || step_done(&wf, &collection, n)).await;
    }

    println!("\nWebflow items:");
    println!(
        "{:<16} {:<14} {:>7} {:<9} {:<6} {:<8}",
        "slug", "name", "price", "category", "live", "archived"
    );
    for item in wf.items(&collection) {
        let field = &item["fieldData"];
        let category = field["category"]
            .as_str()
            .and_then(|id| {
                ["Chairs", "Tables"]
                    .into_iter()
                    .find(|n| wf.option_id(&collection, "category", n).as_deref() == Some(id))
            })
            .unwrap_or("");
        println!(
            "{:<16} {:<14} {:>7} {:<9} {:<6} {:<8}",
            field["slug"].as_str().unwrap_or(""),
            field["name"].as_str().unwrap_or(""),
            field["price"].to_string(),
            category,
            !item["isDraft"].as_bool().unwrap_or(true),
            item["isArchived"].as_bool().unwrap_or(false),
        );
    }
    let calls = wf.requests().iter().filter(|r| r.method != "GET").count();
    println!(
        "\n{} webhooks → {calls} Webflow writes in {:.1} s",
        hooks.len(),
        started.elapsed().as_secs_f64()
    );

    if keep {
        println!("\nStill running (--keep). Press Ctrl-C to stop.");
        let _ = tokio::signal::ctrl_c().await;
    }
    stop(&mut ingress, "ingress");
    stop(&mut worker, "worker");
}

/// Whether webhook `n` of the script is visible in Webflow.
fn step_done(wf: &WebflowStandIn, collection: &str, n: usize) -> bool {
    let items = wf.items(collection);
    let by_slug = |slug: &str| {
        items
            .iter()
            .find(|i| i["fieldData"]["slug"] == slug)
            .cloned()
    };
    match n {
        0 => by_slug("oak-chair").is_some(),
        1 => by_slug("walnut-table").is_some(),
        2 => by_slug("pine-stool").is_some(),
        3 => by_slug("oak-chair").is_some_and(|i| i["fieldData"]["price"].as_f64() == Some(99.0)),
        _ => by_slug("pine-stool").is_some_and(|i: Value| i["isArchived"] == true),
    }
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
    panic!("the ingress did not become ready at {url}");
}

/// Starts a sibling binary (built by `just demo`) with the demo's environment.
fn spawn(name: &str, env: &[(String, String)]) -> Child {
    let exe = std::env::current_exe().expect("own path");
    let path = exe.with_file_name(name);
    Command::new(&path)
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
