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

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::webflow::server::{Call, Outgoing, Server, lock};
pub use crate::webflow::server::{Fault, FaultRule, RecordedRequest};

const RPC_PREFIX: &str = "/smartsuite.webhooks.engine.Webhooks/";
const REST_PREFIX: &str = "/api/v1/";

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

#[derive(Debug, Clone)]
struct TableRec {
    id: String,
    solution: String,
    name: String,
    structure: Vec<Value>,
    records: Vec<Map<String, Value>>,
    next_autonumber: u64,
}

#[derive(Debug, Clone)]
struct WebhookRec {
    webhook: Map<String, Value>,
    events: Vec<(u64, Value)>,
}

#[derive(Debug, Default)]
struct KeyWindow {
    second: u64,
    count: u32,
    blocked_until: Option<Instant>,
}

struct State {
    config: SmartSuiteConfig,
    solutions: Vec<(String, String)>,
    tables: Vec<TableRec>,
    webhooks: Vec<WebhookRec>,
    files: HashMap<String, String>,
    windows: HashMap<String, KeyWindow>,
    sequence: u64,
    base: String,
    pings: Vec<Ping>,
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

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..24].to_owned()
}

fn now() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

fn unix_second() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// SmartSuite omits empty values: `""`, `[]`, `false` and `null` never appear in a record.
fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
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

fn ping_target(state: &State, hook: &WebhookRec) -> Option<(String, Value)> {
    let url = hook
        .webhook
        .get("notification_status")?
        .get("enabled")?
        .get("url")?
        .as_str()?
        .to_owned();
    let solution = hook
        .webhook
        .get("locator")
        .and_then(|l| l.get("solution_id"))
        .cloned()
        .unwrap_or(Value::Null);
    let body = json!({
        "webhookId": hook.webhook["webhook_id"],
        "locator": {"accountId": state.config.account_id, "solutionId": solution},
    });
    Some((url, body))
}

// ---------------------------------------------------------------------------------------------
// record changes and events

type PingList = Vec<(String, String, Value)>;

fn create_record(state: &mut State, table_id: &str, values: Value) -> Option<(String, PingList)> {
    let account = state.config.account_id.clone();
    let table = state.tables.iter_mut().find(|t| t.id == table_id)?;
    let id = new_id();
    let stamp = now();
    let mut record: Map<String, Value> = values
        .as_object()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, v)| !is_empty_value(v))
        .collect();
    record.insert("id".into(), json!(id));
    record.insert("application_id".into(), json!(table.id));
    record.insert(
        "application_slug".into(),
        json!(table.name.to_ascii_lowercase()),
    );
    record.insert("autonumber".into(), json!(table.next_autonumber));
    record.insert(
        "first_created".into(),
        json!({"by": "stand-in-member", "on": stamp}),
    );
    record.insert(
        "last_updated".into(),
        json!({"by": "stand-in-member", "on": stamp}),
    );
    record.insert(
        "deleted_date".into(),
        json!({"date": null, "include_time": false}),
    );
    record.insert("comments_count".into(), json!(0));
    table.next_autonumber += 1;
    table.records.push(record.clone());
    let solution = table.solution.clone();
    let pings = emit(
        state,
        &account,
        &solution,
        table_id,
        "RECORD_CREATED",
        &record,
        Map::new(),
    );
    Some((id, pings))
}

fn update_record(
    state: &mut State,
    table_id: &str,
    record_id: &str,
    changes: Value,
) -> Option<PingList> {
    let account = state.config.account_id.clone();
    let table = state.tables.iter_mut().find(|t| t.id == table_id)?;
    let record = table.records.iter_mut().find(|r| r["id"] == record_id)?;
    let mut previous = Map::new();
    for (key, value) in changes.as_object().cloned().unwrap_or_default() {
        if matches!(key.as_str(), "id" | "application_id") {
            continue;
        }
        previous.insert(
            key.clone(),
            record.get(&key).cloned().unwrap_or(Value::Null),
        );
        if is_empty_value(&value) {
            record.remove(&key);
        } else {
            record.insert(key, value);
        }
    }
    record.insert(
        "last_updated".into(),
        json!({"by": "stand-in-member", "on": now()}),
    );
    let record = record.clone();
    let solution = table.solution.clone();
    Some(emit(
        state,
        &account,
        &solution,
        table_id,
        "RECORD_UPDATED",
        &record,
        previous,
    ))
}

fn delete_record(state: &mut State, table_id: &str, record_id: &str) -> Option<PingList> {
    let account = state.config.account_id.clone();
    let table = state.tables.iter_mut().find(|t| t.id == table_id)?;
    let index = table.records.iter().position(|r| r["id"] == record_id)?;
    table.records.remove(index);
    let solution = table.solution.clone();
    let data: Map<String, Value> = [("id".to_owned(), json!(record_id))].into_iter().collect();
    Some(emit(
        state,
        &account,
        &solution,
        table_id,
        "RECORD_DELETED",
        &data,
        Map::new(),
    ))
}

fn matches_filter(
    filter: &Value,
    solution: &str,
    table_id: &str,
    hook_solution: &str,
    changed: &[String],
) -> bool {
    if filter.get("solution").is_some() {
        return hook_solution == solution;
    }
    if let Some(apps) = filter.get("applications") {
        return apps["application_ids"]
            .as_array()
            .is_some_and(|ids| ids.iter().any(|i| i == table_id));
    }
    if let Some(app) = filter.get("application") {
        let fields: Vec<&str> = app["field_ids"]
            .as_array()
            .map(|f| f.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        return app["application_id"] == table_id
            && (fields.is_empty()
                || changed.is_empty()
                || changed.iter().any(|c| fields.contains(&c.as_str())));
    }
    false
}

fn emit(
    state: &mut State,
    account: &str,
    solution: &str,
    table_id: &str,
    kind: &str,
    data: &Map<String, Value>,
    previous: Map<String, Value>,
) -> PingList {
    let changed: Vec<String> = previous.keys().cloned().collect();
    let auto_ping = state.config.auto_ping;
    let mut targets = Vec::new();
    let mut touched = Vec::new();
    for (index, hook) in state.webhooks.iter().enumerate() {
        let hook_solution = hook
            .webhook
            .get("locator")
            .and_then(|l| l["solution_id"].as_str())
            .unwrap_or_default();
        let wants = hook
            .webhook
            .get("kinds")
            .and_then(Value::as_array)
            .is_some_and(|k| k.iter().any(|x| x == kind));
        let filter = hook.webhook.get("filter").cloned().unwrap_or(Value::Null);
        if wants && matches_filter(&filter, solution, table_id, hook_solution, &changed) {
            touched.push(index);
        }
    }
    for index in touched {
        state.sequence += 1;
        let seq = state.sequence;
        let hook = &mut state.webhooks[index];
        let webhook_id = hook.webhook["webhook_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let event = json!({
            "webhook_id": webhook_id,
            "locator": {"account_id": account, "solution_id": solution},
            "event_id": format!("{webhook_id}.{seq}"),
            "kind": kind,
            "event_at": now(),
            "record_event_data": {
                "record_id": data.get("id").cloned().unwrap_or(Value::Null),
                "locator": {"account_id": account, "solution_id": solution, "application_id": table_id},
                "data": data,
                "previous": previous,
            },
            "ctx": {"change_id": uuid::Uuid::new_v4().to_string(), "change_size": 1, "batch_id": new_id(),
                    "batch_size": 1, "source": "UNKNOWN", "handler": "INTERACTIVE"},
        });
        hook.events.push((seq, event));
        if auto_ping {
            let url = hook
                .webhook
                .get("notification_status")
                .and_then(|n| n.get("enabled"))
                .and_then(|e| e["url"].as_str())
                .map(str::to_owned);
            if let Some(url) = url {
                let body = json!({"webhookId": webhook_id, "locator": {"accountId": account, "solutionId": solution}});
                targets.push((webhook_id, url, body));
            }
        }
    }
    targets
}

// ---------------------------------------------------------------------------------------------
// answers

fn detail(status: u16, message: &str) -> Outgoing {
    Outgoing::json(status, &json!({"detail": message}))
}

fn twirp(status: u16, code: &str, message: &str) -> Outgoing {
    Outgoing::json(status, &json!({"code": code, "msg": message}))
}

fn fault_body(status: u16) -> Outgoing {
    match status {
        429 => detail(429, "Request was throttled."),
        401 => detail(401, "Invalid token."),
        403 => detail(403, "You do not have permission to perform this action."),
        404 => detail(404, "Not found."),
        s if s >= 500 => Outgoing::text(s, "Server Error (simulated)"),
        s => detail(s, "Simulated failure"),
    }
}

fn handle(state: &Mutex<State>, call: &Call) -> Outgoing {
    let mut state = lock(state);
    // ACCOUNT-ID is checked before the token.
    match call.header("account-id") {
        None | Some("") => return Outgoing::text(400, "Account ID is not specified"),
        Some(a) if a != state.config.account_id => {
            return Outgoing::text(400, &format!("Account ID {a} is not valid"));
        }
        Some(_) => {}
    }
    let key = call
        .header("authorization")
        .and_then(|h| h.strip_prefix("Token "))
        .map(str::trim);
    let Some(key) = key
        .filter(|k| state.config.api_keys.iter().any(|x| x == k))
        .map(str::to_owned)
    else {
        return detail(401, "Invalid token.");
    };
    let (limit, penalty) = (state.config.requests_per_second, state.config.penalty);
    let window = state.windows.entry(key).or_default();
    let now = Instant::now();
    if window.blocked_until.is_some_and(|b| b > now) {
        return detail(429, "Request was throttled.");
    }
    let second = unix_second();
    if window.second != second {
        window.second = second;
        window.count = 0;
    }
    if window.count >= limit {
        window.blocked_until = Some(now + penalty);
        return detail(429, "Request was throttled.");
    }
    window.count += 1;
    if let Some(procedure) = call.path.strip_prefix(RPC_PREFIX) {
        if call.method != "POST" {
            return twirp(404, "bad_route", "RPC methods are POST");
        }
        return rpc(&mut state, procedure, &call.json());
    }
    let Some(rest) = call.path.strip_prefix(REST_PREFIX) else {
        return detail(404, "Not found.");
    };
    if !call.path.ends_with('/') {
        return detail(404, "Not found. (SmartSuite paths end with a slash)");
    }
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    rest_route(&mut state, call, &segments)
}

fn table_json(t: &TableRec) -> Value {
    json!({
        "id": t.id, "name": t.name, "solution": t.solution, "slug": t.name.to_ascii_lowercase(),
        "status": "active", "primary_field": "title", "structure": t.structure,
        "record_term": "Record", "fields_count": t.structure.len(),
    })
}

fn rest_route(state: &mut State, call: &Call, segments: &[&str]) -> Outgoing {
    let method = call.method.as_str();
    match (method, segments) {
        ("GET", ["solutions"]) => {
            let list: Vec<Value> = state
                .solutions
                .iter()
                .map(|(id, name)| json!({"id": id, "name": name, "status": "active"}))
                .collect();
            Outgoing::json(200, &Value::Array(list))
        }
        ("GET", ["solutions", id]) => match state.solutions.iter().find(|(s, _)| s == id) {
            Some((id, name)) => {
                Outgoing::json(200, &json!({"id": id, "name": name, "status": "active"}))
            }
            None => detail(404, "Not found."),
        },
        ("GET", ["applications"]) => {
            let solution = call.query_param("solution");
            let list: Vec<Value> = state
                .tables
                .iter()
                .filter(|t| solution.as_deref().is_none_or(|s| t.solution == s))
                .map(table_json)
                .collect();
            Outgoing::json(200, &Value::Array(list))
        }
        ("GET", ["applications", id]) => match state.tables.iter().find(|t| t.id == *id) {
            Some(t) => Outgoing::json(200, &table_json(t)),
            None => detail(404, "Not found."),
        },
        ("POST", ["applications", id, "records", "list"]) => list_records(state, id, call),
        ("GET", ["applications", id, "records", rid]) => {
            match state
                .tables
                .iter()
                .find(|t| t.id == *id)
                .and_then(|t| t.records.iter().find(|r| r["id"] == *rid))
            {
                Some(r) => Outgoing::json(200, &Value::Object(r.clone())),
                None => detail(404, "Not found."),
            }
        }
        ("POST", ["applications", id, "records"]) => {
            let body = call.json();
            if !body.is_object() {
                return detail(400, "Expected a record object");
            }
            match create_record(state, id, body) {
                Some((rid, _pings)) => {
                    let record = state
                        .tables
                        .iter()
                        .find(|t| t.id == *id)
                        .and_then(|t| t.records.iter().find(|r| r["id"] == rid.as_str()))
                        .cloned();
                    Outgoing::json(200, &Value::Object(record.unwrap_or_default()))
                }
                None => detail(404, "Not found."),
            }
        }
        ("GET", ["shared-files", handle, "url"]) => match state.files.get(*handle) {
            Some(url) => Outgoing::json(200, &json!({"url": url})),
            None => detail(404, "Not found."),
        },
        _ => detail(404, "Not found."),
    }
}

fn list_records(state: &State, table_id: &str, call: &Call) -> Outgoing {
    let Some(table) = state.tables.iter().find(|t| t.id == table_id) else {
        return detail(404, "Not found.");
    };
    let offset = call
        .query_param("offset")
        .map_or(Ok(0), |v| v.parse::<usize>());
    let limit = call
        .query_param("limit")
        .map_or(Ok(100), |v| v.parse::<usize>());
    let (Ok(offset), Ok(limit)) = (offset, limit) else {
        return Outgoing::json(400, &json!({"offset": ["A valid integer is required."]}));
    };
    if limit == 0 || limit > 1000 {
        return Outgoing::json(
            400,
            &json!({"limit": ["Ensure this value is between 1 and 1000."]}),
        );
    }
    let body = call.json();
    if !(body.is_object() || body.is_null()) {
        return detail(400, "JSON parse error");
    }
    // check the filter once even when the table is empty
    if let Err(message) = record_matches(&Map::new(), body.get("filter")) {
        return Outgoing::json(400, &json!({"filter": [message]}));
    }
    let mut records: Vec<&Map<String, Value>> = Vec::new();
    for record in &table.records {
        match record_matches(record, body.get("filter")) {
            Ok(true) => records.push(record),
            Ok(false) => {}
            Err(message) => return Outgoing::json(400, &json!({"filter": [message]})),
        }
    }
    if let Some(sort) = body.get("sort").and_then(Value::as_array) {
        for key in sort.iter().rev() {
            let field = key["field"].as_str().unwrap_or_default().to_owned();
            let desc = key["direction"] == "desc";
            records.sort_by(|a, b| {
                let ordering = compare(a.get(&field), b.get(&field));
                if desc { ordering.reverse() } else { ordering }
            });
        }
    }
    let total = records.len();
    let items: Vec<Value> = records
        .into_iter()
        .skip(offset)
        .take(limit)
        .cloned()
        .map(Value::Object)
        .collect();
    Outgoing::json(
        200,
        &json!({"total": total, "offset": offset, "limit": limit, "items": items}),
    )
}

/// A comparable form: status `{value}`, date `{date}`, first-created `{on}`; numbers from
/// strings.
fn scalar(v: Option<&Value>) -> Option<Value> {
    let v = v?;
    let inner = match v {
        Value::Object(o) => o
            .get("value")
            .or_else(|| o.get("date"))
            .or_else(|| o.get("on"))
            .cloned()
            .unwrap_or(Value::Null),
        other => other.clone(),
    };
    Some(inner)
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn compare(a: Option<&Value>, b: Option<&Value>) -> std::cmp::Ordering {
    let (a, b) = (scalar(a), scalar(b));
    match (a.as_ref().and_then(number), b.as_ref().and_then(number)) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
        _ => {
            let text = |v: &Option<Value>| {
                v.as_ref()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .unwrap_or_default()
            };
            text(&a).cmp(&text(&b))
        }
    }
}

fn record_matches(record: &Map<String, Value>, filter: Option<&Value>) -> Result<bool, String> {
    let Some(filter) = filter.filter(|f| !f.is_null()) else {
        return Ok(true);
    };
    let operator = filter
        .get("operator")
        .and_then(Value::as_str)
        .ok_or("filter needs an operator (and/or)")?;
    let fields = filter
        .get("fields")
        .and_then(Value::as_array)
        .ok_or("filter needs fields")?;
    let mut results = Vec::new();
    for condition in fields {
        if condition.get("operator").is_some() {
            results.push(record_matches(record, Some(condition))?);
            continue;
        }
        let field = condition["field"]
            .as_str()
            .ok_or("a condition needs a field")?;
        let comparison = condition["comparison"]
            .as_str()
            .ok_or("a condition needs a comparison")?;
        let value = &condition["value"];
        let actual = record.get(field);
        let actual_scalar = scalar(actual);
        let equal = |x: &Value| match (actual_scalar.as_ref().and_then(number), number(x)) {
            (Some(a), Some(b)) => (a - b).abs() < f64::EPSILON,
            _ => actual_scalar.as_ref() == Some(x),
        };
        let ordered = |want: std::cmp::Ordering, or_equal: bool| {
            let o = compare(actual, Some(value));
            o == want || (or_equal && o == std::cmp::Ordering::Equal)
        };
        let list: Vec<Value> = actual
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let wanted: Vec<Value> = value.as_array().cloned().unwrap_or_default();
        let result = match comparison {
            "is" | "is_equal_to" => equal(value),
            "is_not" | "is_not_equal_to" => !equal(value),
            "contains" => actual_scalar
                .as_ref()
                .and_then(Value::as_str)
                .zip(value.as_str())
                .is_some_and(|(a, b)| a.to_lowercase().contains(&b.to_lowercase())),
            "not_contains" => !actual_scalar
                .as_ref()
                .and_then(Value::as_str)
                .zip(value.as_str())
                .is_some_and(|(a, b)| a.to_lowercase().contains(&b.to_lowercase())),
            "is_empty" => actual.is_none_or(is_empty_value),
            "is_not_empty" => !actual.is_none_or(is_empty_value),
            "is_greater_than" => ordered(std::cmp::Ordering::Greater, false),
            "is_less_than" => ordered(std::cmp::Ordering::Less, false),
            "is_equal_or_greater_than" => ordered(std::cmp::Ordering::Greater, true),
            "is_equal_or_less_than" => ordered(std::cmp::Ordering::Less, true),
            "is_any_of" => wanted.iter().any(equal),
            "is_none_of" => !wanted.iter().any(equal),
            "has_any_of" => wanted.iter().any(|w| list.contains(w)),
            "has_all_of" => wanted.iter().all(|w| list.contains(w)),
            "has_none_of" => !wanted.iter().any(|w| list.contains(w)),
            other => {
                return Err(format!(
                    "the stand-in does not support comparison '{other}'"
                ));
            }
        };
        results.push(result);
    }
    Ok(match operator {
        "and" => results.iter().all(|r| *r),
        "or" => results.iter().any(|r| *r),
        other => return Err(format!("unknown operator '{other}'")),
    })
}

// ---------------------------------------------------------------------------------------------
// webhooks RPC

fn page_size(body: &Value) -> Result<usize, Outgoing> {
    let size = match body.get("page_size") {
        None | Some(Value::Null) => Some(50),
        Some(Value::String(s)) if s.is_empty() => Some(50),
        Some(Value::String(s)) => s.parse().ok(),
        Some(Value::Number(n)) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        Some(_) => None,
    };
    size.filter(|s| (1..=1000).contains(s)).ok_or_else(|| {
        twirp(
            400,
            "invalid_argument",
            "page_size must be a number 1..1000",
        )
    })
}

fn rpc(state: &mut State, procedure: &str, body: &Value) -> Outgoing {
    if !body.is_object() {
        return twirp(400, "malformed", "the body must be a JSON object");
    }
    let find = |state: &State, id: &Value| {
        state
            .webhooks
            .iter()
            .position(|w| id.is_string() && w.webhook["webhook_id"] == *id)
    };
    match procedure {
        "CreateWebhook" => {
            let Some(hook) = body.get("webhook").and_then(Value::as_object) else {
                return twirp(400, "invalid_argument", "webhook is required");
            };
            if let Err(message) = check_webhook(state, hook) {
                return twirp(400, "invalid_argument", &message);
            }
            let mut hook = hook.clone();
            let stamp = now();
            hook.insert("webhook_id".into(), json!(uuid::Uuid::new_v4().to_string()));
            hook.insert("created_at".into(), json!({"by": "API User", "at": stamp}));
            hook.insert("updated_at".into(), json!({"by": "API User", "at": stamp}));
            hook.insert(
                "system_status".into(),
                json!({"enabled": {"expires_at": expiry()}}),
            );
            state.webhooks.push(WebhookRec {
                webhook: hook.clone(),
                events: Vec::new(),
            });
            Outgoing::json(200, &json!({"webhook": hook}))
        }
        "ListEvents" => {
            let Some(index) = find(state, &body["webhook_id"]) else {
                return twirp(404, "not_found", "webhook not found");
            };
            let size = match page_size(body) {
                Ok(s) => s,
                Err(out) => return out,
            };
            let token = match body.get("page_token") {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(_) => return twirp(400, "invalid_argument", "page_token must be a string"),
            };
            let after = if token.is_empty() {
                0
            } else {
                match token.parse::<u64>() {
                    Ok(n) => n,
                    Err(_) => return twirp(400, "invalid_argument", "page_token is not valid"),
                }
            };
            let hook = &mut state.webhooks[index];
            hook.webhook.insert(
                "system_status".into(),
                json!({"enabled": {"expires_at": expiry()}}),
            );
            let events: Vec<&(u64, Value)> = hook
                .events
                .iter()
                .filter(|(seq, _)| *seq > after)
                .take(size)
                .collect();
            let next = events
                .last()
                .map_or(token.clone(), |(seq, _)| seq.to_string());
            let events: Vec<Value> = events.into_iter().map(|(_, e)| e.clone()).collect();
            Outgoing::json(200, &json!({"events": events, "next_page_token": next}))
        }
        "ListWebhooks" => {
            let solution = body
                .get("solution_id")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty());
            let list: Vec<Value> = state
                .webhooks
                .iter()
                .filter(|w| {
                    solution.is_none_or(|s| {
                        w.webhook
                            .get("locator")
                            .is_some_and(|l| l["solution_id"] == s)
                    })
                })
                .map(|w| Value::Object(w.webhook.clone()))
                .collect();
            Outgoing::json(200, &json!({"webhooks": list, "next_page_token": ""}))
        }
        "UpdateWebhook" => {
            let Some(update) = body.get("webhook").and_then(Value::as_object) else {
                return twirp(400, "invalid_argument", "webhook is required");
            };
            let Some(index) = find(state, update.get("webhook_id").unwrap_or(&Value::Null)) else {
                return twirp(404, "not_found", "webhook not found");
            };
            let mut merged = state.webhooks[index].webhook.clone();
            for key in ["filter", "kinds", "locator", "notification_status"] {
                if let Some(v) = update.get(key) {
                    merged.insert(key.into(), v.clone());
                }
            }
            if let Err(message) = check_webhook(state, &merged) {
                return twirp(400, "invalid_argument", &message);
            }
            merged.insert("updated_at".into(), json!({"by": "API User", "at": now()}));
            state.webhooks[index].webhook = merged.clone();
            Outgoing::json(200, &json!({"webhook": merged}))
        }
        "DeleteWebhook" => {
            let Some(index) = find(state, &body["webhook_id"]) else {
                return twirp(404, "not_found", "webhook not found");
            };
            state.webhooks.remove(index);
            Outgoing::json(200, &json!({}))
        }
        _ => twirp(404, "bad_route", &format!("no such method: {procedure}")),
    }
}

fn expiry() -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    (time::OffsetDateTime::now_utc() + time::Duration::days(7))
        .format(&format)
        .unwrap_or_default()
}

fn check_webhook(state: &State, hook: &Map<String, Value>) -> Result<(), String> {
    let kinds = hook
        .get("kinds")
        .and_then(Value::as_array)
        .ok_or("kinds is required")?;
    if kinds.is_empty()
        || !kinds.iter().all(|k| {
            matches!(
                k.as_str(),
                Some("RECORD_CREATED" | "RECORD_UPDATED" | "RECORD_DELETED")
            )
        })
    {
        return Err("kinds must be RECORD_CREATED, RECORD_UPDATED or RECORD_DELETED".into());
    }
    let filter = hook
        .get("filter")
        .and_then(Value::as_object)
        .ok_or("filter is required")?;
    let shapes = ["solution", "applications", "application"]
        .iter()
        .filter(|k| filter.contains_key(**k))
        .count();
    if shapes != 1 {
        return Err("filter must have exactly one of solution, applications, application".into());
    }
    let locator = hook.get("locator").ok_or("locator is required")?;
    if locator["account_id"] != state.config.account_id.as_str() {
        return Err("locator.account_id is not this workspace".into());
    }
    let solution = locator["solution_id"]
        .as_str()
        .ok_or("locator.solution_id is required")?;
    if !state.solutions.iter().any(|(id, _)| id == solution) {
        return Err(format!("unknown solution {solution}"));
    }
    let status = hook
        .get("notification_status")
        .ok_or("notification_status is required")?;
    let enabled_url = status
        .get("enabled")
        .map(|e| e["url"].as_str().is_some_and(|u| u.starts_with("http")));
    if enabled_url == Some(false) || (enabled_url.is_none() && status.get("disabled").is_none()) {
        return Err("notification_status must be enabled with an http(s) url, or disabled".into());
    }
    Ok(())
}
