//! A local SmartSuite stand-in: solutions, tables with `structure`, records (REST paths with
//! trailing slashes, `records/list/` with offset/limit ≤ 1000, filter and sort), shared-file
//! URLs, the webhooks RPC (`CreateWebhook`, `ListEvents` with string cursor tokens,
//! `ListWebhooks`, `UpdateWebhook`, `DeleteWebhook`) on the same port, notification pings,
//! `Authorization: Token` + `ACCOUNT-ID` checks and 5 requests per clock second per key with a
//! 429 that blocks the key for 30 s (both configurable). Faults on demand and a request log.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use serde_json::json;
//! use suiteflow_test_support::smartsuite::SmartSuiteStandIn;
//! let smartsuite = SmartSuiteStandIn::start().await?;
//! let solution = smartsuite.add_solution("Shop");
//! let table = smartsuite.add_table(&solution, "Products", vec![
//!     json!({"slug": "title", "label": "Title", "field_type": "recordtitlefield", "params": {}}),
//! ]);
//! smartsuite.insert_record(&table, json!({"title": "Blue mug"}));
//! // clients use smartsuite.api_base(), smartsuite.webhooks_base(), account_id(), api_key()
//! # Ok(()) }
//! ```

mod query;
mod routes;
mod rpc;
mod state;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

pub use crate::server::{Fault, FaultRule, RecordedRequest};
use crate::server::{Server, lock};
use routes::{fault_body, handle};
use state::{State, TableRec, create_record, delete_record, new_id, ping_target, update_record};

/// Settings of a [`SmartSuiteStandIn`].
#[derive(Debug, Clone)]
pub struct SmartSuiteConfig {
    /// The workspace id expected in `ACCOUNT-ID`.
    pub account_id: String,
    /// API keys accepted (the first is [`SmartSuiteStandIn::api_key`]).
    pub api_keys: Vec<String>,
    /// Requests per clock second per key.
    pub requests_per_second: u32,
    /// How long a key stays blocked after exceeding the limit (every request meanwhile: 429).
    pub penalty: Duration,
    /// Ping a webhook's notification URL whenever it receives an event.
    pub auto_ping: bool,
}

impl Default for SmartSuiteConfig {
    fn default() -> Self {
        Self {
            account_id: "sv25cxf2".to_owned(),
            api_keys: vec!["ss-test-key".to_owned()],
            requests_per_second: 5,
            penalty: Duration::from_secs(30),
            auto_ping: true,
        }
    }
}

/// One notification ping the stand-in sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Ping {
    pub webhook_id: String,
    pub url: String,
    pub body: Value,
    /// The receiver's status, or `None` when it could not be reached.
    pub status: Option<u16>,
}

/// A running SmartSuite stand-in; stops when dropped.
pub struct SmartSuiteStandIn {
    server: Server,
    state: Arc<Mutex<State>>,
    http: reqwest::Client,
}

impl std::fmt::Debug for SmartSuiteStandIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmartSuiteStandIn")
            .field("addr", &self.server.addr())
            .finish_non_exhaustive()
    }
}

impl SmartSuiteStandIn {
    /// Starts with [`SmartSuiteConfig::default`]: account `sv25cxf2`, key `ss-test-key`.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(SmartSuiteConfig::default()).await
    }

    pub async fn start_with(config: SmartSuiteConfig) -> std::io::Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(std::io::Error::other)?;
        let state = Arc::new(Mutex::new(State {
            config,
            solutions: Vec::new(),
            tables: Vec::new(),
            webhooks: Vec::new(),
            files: HashMap::new(),
            windows: HashMap::new(),
            sequence: 0,
            base: String::new(),
            pings: Vec::new(),
        }));
        let handler_state = Arc::clone(&state);
        let server = Server::start(
            Arc::new(move |call| handle(&handler_state, call)),
            fault_body,
        )
        .await?;
        lock(&state).base = format!("http://{}", server.addr());
        Ok(Self {
            server,
            state,
            http,
        })
    }

    /// The REST base, `http://127.0.0.1:<port>/api/v1`.
    pub fn api_base(&self) -> url::Url {
        let text = format!("http://{}/api/v1", self.server.addr());
        url::Url::parse(&text).unwrap_or_else(|_| unreachable!("a socket address makes a URL"))
    }

    /// The webhooks RPC base, `http://127.0.0.1:<port>` (same server).
    pub fn webhooks_base(&self) -> url::Url {
        let text = format!("http://{}", self.server.addr());
        url::Url::parse(&text).unwrap_or_else(|_| unreachable!("a socket address makes a URL"))
    }

    pub fn account_id(&self) -> String {
        lock(&self.state).config.account_id.clone()
    }

    /// The first accepted API key.
    pub fn api_key(&self) -> String {
        lock(&self.state)
            .config
            .api_keys
            .first()
            .cloned()
            .unwrap_or_default()
    }

    pub fn add_api_key(&self, key: &str) {
        lock(&self.state).config.api_keys.push(key.to_owned());
    }

    /// Changes the per-key limit and the block after exceeding it (and forgets past windows).
    pub fn set_rate_limit(&self, requests_per_second: u32, penalty: Duration) {
        let mut state = lock(&self.state);
        state.config.requests_per_second = requests_per_second;
        state.config.penalty = penalty;
        state.windows.clear();
    }

    pub fn set_auto_ping(&self, on: bool) {
        lock(&self.state).config.auto_ping = on;
    }

    /// Creates a solution and returns its id.
    pub fn add_solution(&self, name: &str) -> String {
        let id = new_id();
        lock(&self.state)
            .solutions
            .push((id.clone(), name.to_owned()));
        id
    }

    /// Creates a table with this `structure` (field objects `{slug, label, field_type,
    /// params}`) and returns its id. A `title` field is added when none is given.
    pub fn add_table(&self, solution_id: &str, name: &str, mut structure: Vec<Value>) -> String {
        if !structure.iter().any(|f| f["slug"] == "title") {
            structure.insert(
                0,
                json!({"slug": "title", "label": "Title", "field_type": "recordtitlefield", "params": {"required": true, "primary": true}}),
            );
        }
        let id = new_id();
        lock(&self.state).tables.push(TableRec {
            id: id.clone(),
            solution: solution_id.to_owned(),
            name: name.to_owned(),
            structure,
            records: Vec::new(),
            next_autonumber: 1,
        });
        id
    }

    /// Adds a choice (`{label, value}`) to a select or status field of a table, as a person
    /// does in SmartSuite. `false` without such a field.
    pub fn add_choice(&self, table_id: &str, field_slug: &str, label: &str, value: &str) -> bool {
        let mut state = lock(&self.state);
        let Some(field) = state
            .tables
            .iter_mut()
            .find(|t| t.id == table_id)
            .and_then(|t| t.structure.iter_mut().find(|f| f["slug"] == field_slug))
        else {
            return false;
        };
        match field
            .pointer_mut("/params/choices")
            .and_then(Value::as_array_mut)
        {
            Some(choices) => {
                choices.push(json!({"label": label, "value": value}));
                true
            }
            None => false,
        }
    }

    /// Adds a field (`{slug, label, field_type, params}`) to a table's structure. `false`
    /// without such a table.
    pub fn add_field(&self, table_id: &str, field: Value) -> bool {
        let mut state = lock(&self.state);
        match state.tables.iter_mut().find(|t| t.id == table_id) {
            Some(table) => {
                table.structure.push(field);
                true
            }
            None => false,
        }
    }

    /// Removes a field from a table's structure and from its records, as a person deleting
    /// it in SmartSuite. `false` without such a field.
    pub fn remove_field(&self, table_id: &str, field_slug: &str) -> bool {
        let mut state = lock(&self.state);
        let Some(table) = state.tables.iter_mut().find(|t| t.id == table_id) else {
            return false;
        };
        let before = table.structure.len();
        table.structure.retain(|f| f["slug"] != field_slug);
        for record in &mut table.records {
            record.remove(field_slug);
        }
        table.structure.len() != before
    }

    /// A file handle that `/shared-files/{handle}/url/` resolves; returns the URL.
    pub fn add_file(&self, handle: &str) -> String {
        let mut state = lock(&self.state);
        let url = format!("{}/files/{handle}", state.base);
        state.files.insert(handle.to_owned(), url.clone());
        url
    }

    /// Adds a record (as if a user created it): system fields are filled, empty values
    /// dropped, webhooks get a `RECORD_CREATED` event. Returns the record id.
    pub fn insert_record(&self, table_id: &str, values: Value) -> String {
        self.insert_records(table_id, vec![values])
            .pop()
            .unwrap_or_default()
    }

    /// Adds many records at once (events and pings as for single inserts).
    pub fn insert_records(&self, table_id: &str, values: Vec<Value>) -> Vec<String> {
        let (ids, pings) = {
            let mut state = lock(&self.state);
            let mut ids = Vec::new();
            let mut pings = Vec::new();
            for v in values {
                if let Some((id, p)) = create_record(&mut state, table_id, v) {
                    ids.push(id);
                    pings.extend(p);
                }
            }
            (ids, pings)
        };
        self.send_pings(pings);
        ids
    }

    /// Changes a record (as a user would): webhooks get `RECORD_UPDATED` with `previous`.
    pub fn update_record(&self, table_id: &str, record_id: &str, changes: Value) -> bool {
        let pings = {
            let mut state = lock(&self.state);
            update_record(&mut state, table_id, record_id, changes)
        };
        let found = pings.is_some();
        self.send_pings(pings.unwrap_or_default());
        found
    }

    /// Deletes a record: webhooks get `RECORD_DELETED`.
    pub fn delete_record(&self, table_id: &str, record_id: &str) -> bool {
        let pings = {
            let mut state = lock(&self.state);
            delete_record(&mut state, table_id, record_id)
        };
        let found = pings.is_some();
        self.send_pings(pings.unwrap_or_default());
        found
    }

    /// The records of a table, as the API returns them.
    pub fn records(&self, table_id: &str) -> Vec<Value> {
        let state = lock(&self.state);
        state
            .tables
            .iter()
            .find(|t| t.id == table_id)
            .map(|t| t.records.iter().cloned().map(Value::Object).collect())
            .unwrap_or_default()
    }

    /// The webhooks, as `ListWebhooks` shows them.
    pub fn webhooks(&self) -> Vec<Value> {
        lock(&self.state)
            .webhooks
            .iter()
            .map(|w| Value::Object(w.webhook.clone()))
            .collect()
    }

    /// Turns a webhook's notifications off, as SmartSuite does after a day of failed pings
    /// (its URL is forgotten; events are still recorded). `false` when there is no such webhook.
    pub fn disable_notifications(&self, webhook_id: &str) -> bool {
        let mut state = lock(&self.state);
        let Some(hook) = state
            .webhooks
            .iter_mut()
            .find(|w| w.webhook["webhook_id"] == webhook_id)
        else {
            return false;
        };
        hook.webhook
            .insert("notification_status".into(), json!({"disabled": {}}));
        true
    }

    /// Deletes a webhook and its stored events, as SmartSuite does with one nobody read for 14
    /// days. `false` when there is no such webhook.
    pub fn expire_webhook(&self, webhook_id: &str) -> bool {
        let mut state = lock(&self.state);
        let before = state.webhooks.len();
        state
            .webhooks
            .retain(|w| w.webhook["webhook_id"] != webhook_id);
        state.webhooks.len() < before
    }

    /// The events stored for a webhook, oldest first.
    pub fn events(&self, webhook_id: &str) -> Vec<Value> {
        let state = lock(&self.state);
        state
            .webhooks
            .iter()
            .find(|w| w.webhook["webhook_id"] == webhook_id)
            .map(|w| w.events.iter().map(|(_, e)| e.clone()).collect())
            .unwrap_or_default()
    }

    /// POSTs `{"webhookId", "locator": {"accountId", "solutionId"}}` to the webhook's
    /// notification URL now and returns the receiver's status.
    pub async fn ping(&self, webhook_id: &str) -> Result<u16, String> {
        let target = {
            let state = lock(&self.state);
            let hook = state
                .webhooks
                .iter()
                .find(|w| w.webhook["webhook_id"] == webhook_id);
            hook.and_then(|w| ping_target(&state, w))
        };
        let Some((url, body)) = target else {
            return Err(format!(
                "no webhook {webhook_id} with notifications enabled"
            ));
        };
        let status = self.post_ping(&url, &body).await;
        lock(&self.state).pings.push(Ping {
            webhook_id: webhook_id.to_owned(),
            url,
            body,
            status,
        });
        status.ok_or_else(|| "the notification URL could not be reached".to_owned())
    }

    /// Every ping sent so far (automatic ones appear once their POST finished).
    pub fn pings(&self) -> Vec<Ping> {
        lock(&self.state).pings.clone()
    }

    async fn post_ping(&self, url: &str, body: &Value) -> Option<u16> {
        post_ping(&self.http, url, body).await
    }

    fn send_pings(&self, pings: Vec<(String, String, Value)>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        for (webhook_id, url, body) in pings {
            let http = self.http.clone();
            let state = Arc::clone(&self.state);
            runtime.spawn(async move {
                let status = post_ping(&http, &url, &body).await;
                lock(&state).pings.push(Ping {
                    webhook_id,
                    url,
                    body,
                    status,
                });
            });
        }
    }

    pub fn inject(&self, rule: FaultRule) {
        self.server.inject(rule);
    }

    /// The next `times` requests answer `status` without being applied.
    pub fn fail_next(&self, times: usize, status: u16) {
        self.inject(FaultRule::new(Fault::Status(status), times));
    }

    /// The next `times` requests are applied, then answered after `delay`.
    pub fn slow_next(&self, times: usize, delay: Duration) {
        self.inject(FaultRule::new(Fault::Slow(delay), times));
    }

    /// The next `times` requests are applied, then the connection is closed without an answer.
    pub fn drop_next_after_apply(&self, times: usize) {
        self.inject(FaultRule::new(Fault::DropAfterApply, times));
    }

    pub fn clear_faults(&self) {
        self.server.clear_faults();
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.server.requests()
    }

    pub fn clear_requests(&self) {
        self.server.clear_requests();
    }
}

async fn post_ping(http: &reqwest::Client, url: &str, body: &Value) -> Option<u16> {
    let response = http.post(url).json(body).send().await.ok()?;
    Some(response.status().as_u16())
}
