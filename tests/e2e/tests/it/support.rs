//! A whole pipeline: ingress and worker over a test database, with both stand-ins.

use std::time::Duration;

use serde_json::{Value, json};
use suiteflow_crypto::SecretString;
use suiteflow_settings::{Reader, Source};
use suiteflow_store::{ConnectionId, Event, EventStatus, Store};
use suiteflow_sync::ClientOptions;
use suiteflow_test_support::TestDb;
use suiteflow_test_support::fixtures::{
    ConnectionSpec, Products, ProductsWorld, stand_in_settings,
};
use suiteflow_test_support::rows;
use suiteflow_test_support::smartsuite::SmartSuiteStandIn;
use suiteflow_test_support::webflow::{WebflowConfig, WebflowStandIn};
use worker::Worker;

pub const SECRET: &str = "e2e-hmac-secret";

pub struct Pipeline {
    pub db: TestDb,
    pub wf: WebflowStandIn,
    pub ss: SmartSuiteStandIn,
    pub collection: String,
    pub table: String,
    pub solution: String,
    pub connection: ConnectionId,
    pub ingress: String,
    pub http: reqwest::Client,
    pub worker: Worker,
    /// The settings the pipeline's worker was started with (another replica gets the same).
    worker_env: Vec<(String, String)>,
    rate_window: Duration,
    ingress_handle: actix_web::dev::ServerHandle,
}

pub struct Options {
    pub webflow: WebflowConfig,
    pub spec: ConnectionSpec,
    pub env: Vec<(&'static str, String)>,
    /// The window of the connection's `rate_limit_per_min` (scaled clock).
    pub rate_window: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            webflow: WebflowConfig {
                rate_limit: 10_000,
                ..WebflowConfig::default()
            },
            spec: ConnectionSpec {
                rate_limit_per_min: 1000,
                retry_backoff_ms: 1,
                ..ConnectionSpec::default()
            },
            env: Vec::new(),
            rate_window: Duration::from_secs(60),
        }
    }
}

impl Pipeline {
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let spec = ConnectionSpec {
            webhook_secret: SECRET.into(),
            ..options.spec
        };
        let ProductsWorld {
            db,
            wf,
            ss,
            products:
                Products {
                    collection,
                    solution,
                    table,
                },
            connection,
        } = ProductsWorld::start(options.webflow, spec, Products::mapping()).await;

        let mut env = stand_in_settings(db.url(), &wf, &ss);
        env.extend([
            ("INGRESS_ADDR".into(), "127.0.0.1:0".into()),
            ("WORKER_BATCH_SIZE".into(), "100".into()),
            ("WORKER_CONCURRENCY".into(), "100".into()),
        ]);
        env.extend(options.env.into_iter().map(|(k, v)| (k.to_string(), v)));
        let source = Source::new(None, env.clone()).unwrap();

        let mut r = Reader::new(&source);
        let ingress_settings = ingress::Settings::read(&mut r);
        let ingress_settings = r.finish(|| ingress_settings).unwrap();
        let app = ingress::Application::build(ingress_settings).unwrap();
        let ingress = format!("http://{}", app.addr());
        let ingress_handle = app.handle();
        tokio::spawn(app.run_until_stopped());

        // SmartSuite's notifications reach this ingress (a webhook the worker registers again).
        env.push(("APP_URL".into(), ingress.clone()));
        let source = Source::new(None, env.clone()).unwrap();
        let worker = new_worker(&source, options.rate_window).await;
        Self {
            db,
            wf,
            ss,
            collection,
            table,
            solution,
            connection,
            ingress,
            http: reqwest::Client::new(),
            worker,
            worker_env: env,
            rate_window: options.rate_window,
            ingress_handle,
        }
    }

    /// Another worker over the same database with the same settings (another replica).
    pub async fn another_worker(&self) -> Worker {
        let source = Source::new(None, self.worker_env.clone()).unwrap();
        new_worker(&source, self.rate_window).await
    }

    /// Pushes a signed event and asserts the ingress accepted it (202).
    pub async fn accept(&self, event_type: &str, record_id: &str, data: Value, key: &str) {
        let status = self.push(event_type, record_id, data, key).await;
        assert_eq!(status, 202, "{event_type} {record_id} (key {key})");
    }

    /// Sends a signed push through the ingress; returns the HTTP status.
    pub async fn push(&self, event_type: &str, record_id: &str, data: Value, key: &str) -> u16 {
        let body =
            json!({"event_type": event_type, "record_id": record_id, "data": data}).to_string();
        let signature =
            suiteflow_webhook_security::sign_hmac(&SecretString::new(SECRET), body.as_bytes());
        self.http
            .post(format!("{}/api/hooks/{}", self.ingress, self.connection.0))
            .header("x-smartsuite-signature", signature)
            .header("x-idempotency-key", key)
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    pub fn items(&self) -> Vec<Value> {
        self.wf.items(&self.collection)
    }

    /// Webflow requests of one method whose path ends with `suffix`.
    pub fn calls(&self, method: &str, suffix: &str) -> usize {
        self.wf
            .requests()
            .iter()
            .filter(|r| r.method == method && r.path.ends_with(suffix) && r.status < 300)
            .count()
    }

    /// Events by status.
    pub async fn statuses(&self) -> Vec<(EventStatus, i64)> {
        let store = self.store().await;
        let mut conn = store.get().await.unwrap();
        suiteflow_store::queue::count_by_status(&mut conn)
            .await
            .unwrap()
    }

    pub async fn count(&self, status: EventStatus) -> i64 {
        self.statuses()
            .await
            .into_iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| n)
    }

    pub async fn store(&self) -> Store {
        store(self.db.url()).await
    }

    /// The connection's `analytics_daily` counters of the last two days added up: a test that
    /// runs across midnight (UTC) counts its events on two rows.
    pub async fn analytics(&self) -> suiteflow_store::DailyAnalytics {
        let store = self.store().await;
        let mut conn = store.get().await.unwrap();
        let today = time::OffsetDateTime::now_utc().date();
        let days = suiteflow_store::daily_analytics(
            &mut conn,
            self.connection,
            today.previous_day().unwrap(),
            today,
        )
        .await
        .unwrap();
        let mut sum = days.first().cloned().expect("a row of analytics");
        for day in &days[1..] {
            sum.events_received += day.events_received;
            sum.succeeded += day.succeeded;
            sum.failed += day.failed;
            sum.dead_lettered += day.dead_lettered;
            sum.skipped += day.skipped;
            sum.pulls += day.pulls;
            sum.webflow_calls += day.webflow_calls;
            sum.total_duration_ms += day.total_duration_ms;
        }
        sum
    }

    /// A pipeline whose connection retries `max_retries` times from `retry_backoff_ms`, with a
    /// Webflow budget that never gets in the way.
    pub async fn start_with_retries(retry_backoff_ms: i32, max_retries: i32) -> Self {
        Self::start_with(Options {
            spec: ConnectionSpec {
                rate_limit_per_min: 1000,
                retry_backoff_ms,
                max_retries,
                ..ConnectionSpec::default()
            },
            ..Options::default()
        })
        .await
    }

    /// Accepts a `record_created` push for `record` (title "X", price 1; its id is its key).
    pub async fn accept_a_create(&self, record: &str) {
        let data = json!({"title": "X", "price": "1"});
        self.accept("record_created", record, data, record).await;
    }

    /// The settings that point a process at this pipeline's database, stand-ins and ingress.
    pub fn settings(&self) -> Vec<(String, String)> {
        let mut settings = stand_in_settings(self.db.url(), &self.wf, &self.ss);
        settings.push(("APP_URL".into(), self.ingress.clone()));
        settings
    }

    /// The connection's row as the store reads it.
    pub async fn connection_row(&self) -> suiteflow_store::Connection {
        let store = self.store().await;
        let mut conn = store.get().await.unwrap();
        suiteflow_store::get_connection(&mut conn, self.connection)
            .await
            .unwrap()
            .expect("the pipeline's connection")
    }

    /// Moves every waiting event's `retry_after` to now, as if its wait had passed.
    pub async fn make_due(&self) {
        rows::make_due(&mut self.db.connect().await).await;
    }

    /// The events of one SmartSuite record.
    pub async fn events_of(&self, external_id: &str) -> Vec<Event> {
        rows::events_of(&mut self.db.connect().await, external_id).await
    }

    /// Every event, in queue order.
    pub async fn all_events(&self) -> Vec<Event> {
        rows::all_events(&mut self.db.connect().await).await
    }

    /// Runs the `suiteflow` CLI binary against this pipeline's database and stand-ins with
    /// `--json`, requires it to succeed, and returns what it printed.
    pub fn cli(&self, args: &[&str]) -> Value {
        let output =
            std::process::Command::new(suiteflow_test_support::process::binary("suiteflow"))
                .args(args)
                .arg("--json")
                .env_clear()
                .envs(self.settings())
                .output()
                .unwrap();
        assert!(
            output.status.success(),
            "suiteflow {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }

    /// Another connection between the same stand-ins, with the same Webflow token and
    /// SmartSuite API key: a new table and a new collection of the products schema.
    pub async fn another_connection(&self, spec: ConnectionSpec) -> (ConnectionId, Products) {
        let products = Products::add(&self.wf, &self.ss);
        let spec = ConnectionSpec {
            webhook_secret: SECRET.into(),
            ..spec
        };
        let id = products
            .connect(self.db.url(), &self.wf, &self.ss, spec, Products::mapping())
            .await;
        (id, products)
    }

    /// Queues one upsert event per record, carrying the record (a backfill's events).
    pub async fn enqueue_records(&self, connection: ConnectionId, records: &[(String, Value)]) {
        let events: Vec<_> = records
            .iter()
            .map(|(id, record)| {
                let Value::Object(record) = record else {
                    panic!("a record is an object: {record}")
                };
                suiteflow_sync::backfill::record_event(connection, id, record)
            })
            .collect();
        let store = self.store().await;
        let mut conn = store.get().await.unwrap();
        suiteflow_store::queue::enqueue_many(&mut conn, &events)
            .await
            .unwrap();
    }

    /// Registers a SmartSuite webhook for the connection's table, notifying the ingress with
    /// URL token `token`, and stores it on the connection as `connection register-webhook`
    /// does. Returns its id.
    pub async fn register_smartsuite_webhook(&self, token: &str) -> String {
        let url = format!(
            "{}/api/hooks/smartsuite/{}/{token}",
            self.ingress, self.connection.0
        );
        let client = suiteflow_smartsuite_client::SmartSuiteClient::builder(
            self.ss.api_base(),
            self.ss.webhooks_base(),
            self.ss.account_id(),
            SecretString::new(self.ss.api_key()),
        )
        .build()
        .unwrap();
        let webhook = client
            .create_webhook(&suiteflow_smartsuite_client::NewWebhook {
                solution_id: self.solution.clone(),
                filter: json!({"applications": {"application_ids": [self.table]}}),
                kinds: vec![
                    "RECORD_CREATED".into(),
                    "RECORD_UPDATED".into(),
                    "RECORD_DELETED".into(),
                ],
                notification_url: url,
            })
            .await
            .unwrap();
        let store = self.store().await;
        let mut conn = store.get().await.unwrap();
        let changes = suiteflow_store::ConnectionChanges {
            smartsuite_webhook_id: Some(webhook.webhook_id.clone()),
            smartsuite_webhook_token_hash: Some(Some(suiteflow_webhook_security::url_token_hash(
                token,
            ))),
            ..Default::default()
        };
        suiteflow_store::update_connection(&mut conn, self.connection, &changes)
            .await
            .unwrap();
        webhook.webhook_id.expect("SmartSuite gives a webhook id")
    }

    /// Waits until at least one event is queued (a ping's pull), for up to five seconds.
    pub async fn wait_for_queued(&self) -> bool {
        for _ in 0..100 {
            if self.count(EventStatus::Queued).await > 0 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// Runs the worker until nothing is claimable, repeating while retries are due soon.
    pub async fn sync(&self) {
        for _ in 0..50 {
            self.worker.run_until_empty().await.unwrap();
            let waiting =
                self.count(EventStatus::Queued).await + self.count(EventStatus::Failed).await;
            if waiting == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        drop(self.ingress_handle.stop(false));
    }
}

async fn store(url: &str) -> Store {
    let source = Source::new(None, vec![("DATABASE_URL".to_string(), url.to_string())]).unwrap();
    let mut r = Reader::new(&source);
    let config = suiteflow_store::DatabaseConfig::read(&mut r, "test");
    let config = r.finish(|| config).unwrap();
    Store::connect(&config).await.unwrap()
}

async fn new_worker(source: &Source, rate_window: Duration) -> Worker {
    let mut r = Reader::new(source);
    let settings = worker::Settings::read(&mut r);
    let settings = r.finish(|| settings).unwrap();
    let store = Store::connect(&settings.database).await.unwrap();
    Worker::new(store, settings).with_client_options(ClientOptions {
        webflow_timeout: Duration::from_secs(2),
        smartsuite_rate_limit_pause: Duration::from_millis(500),
        rate_window,
        ..ClientOptions::default()
    })
}
