//! `SmartSuiteClient`: the REST calls a sync needs and the webhooks RPC.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use suiteflow_crypto::SecretString;
use tower::ServiceExt;
use tower::retry::Retry;
use tower::timeout::Timeout;

use crate::error::{classify, transport};
use crate::limiter::{KeyLimit, KeyLimitLayer, KeyLimiter};
use crate::{
    Error, EventPage, ListRecords, NewWebhook, Record, RecordPage, Solution, Table, Webhook,
    WebhookEvent, WebhookPage,
};
use suiteflow_http::{ApiRequest, Exchange, RetryPolicy};

/// SmartSuite's largest `limit` for `records/list/`.
pub const MAX_RECORDS_PER_PAGE: u32 = 1000;

const RPC_SERVICE: &str = "smartsuite.webhooks.engine.Webhooks";

/// Settings of a [`SmartSuiteClient`]; start with [`SmartSuiteClient::builder`].
#[derive(Debug, Clone)]
pub struct SmartSuiteClientBuilder {
    api_base: url::Url,
    webhooks_base: url::Url,
    account_id: String,
    api_key: SecretString,
    timeout: Duration,
    connect_timeout: Duration,
    requests_per_second: u32,
    window_margin: Duration,
    rate_limit_pause: Duration,
    rate_limited_retries: u32,
    max_retries: u32,
    retry_backoff: Duration,
    max_retry_backoff: Duration,
    user_agent: String,
}

impl SmartSuiteClientBuilder {
    /// Time allowed for one attempt, answer body included (default 30 s). Waiting for the
    /// key's turn is not counted.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Requests per sliding second for this key (default 5, SmartSuite's limit).
    pub fn requests_per_second(mut self, n: u32) -> Self {
        self.requests_per_second = n.max(1);
        self
    }

    /// Added to the one-second window to absorb clock and network jitter (default 100 ms).
    pub fn window_margin(mut self, margin: Duration) -> Self {
        self.window_margin = margin;
        self
    }

    /// How long a 429 stops every request with this key (default 30 s, SmartSuite's rule).
    pub fn rate_limit_pause(mut self, pause: Duration) -> Self {
        self.rate_limit_pause = pause;
        self
    }

    /// How many times a 429'd request is sent again after the pause (default 0: the caller
    /// gets `RateLimited` and decides).
    pub fn rate_limited_retries(mut self, n: u32) -> Self {
        self.rate_limited_retries = n;
        self
    }

    /// Extra attempts for a transient failure of a read (default 2).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// First wait between attempts, doubled each time up to `max`, each plus up to 30 % within
    /// `max` (default 500 ms, 5 s).
    pub fn retry_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.retry_backoff = first;
        self.max_retry_backoff = max.max(first);
        self
    }

    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    pub fn build(self) -> Result<SmartSuiteClient, Error> {
        for base in [&self.api_base, &self.webhooks_base] {
            if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
                return Err(Error::Config("the base URLs must be http(s) URLs".into()));
            }
        }
        if self.account_id.is_empty() {
            return Err(Error::Config(
                "the account id (workspace id) is empty".into(),
            ));
        }
        crate::install_crypto_provider();
        let http = reqwest::Client::builder()
            .user_agent(self.user_agent)
            .connect_timeout(self.connect_timeout.min(self.timeout))
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        // One limiter per key (and REST base), shared by every client built for it.
        let limiter = KeyLimiter::shared(
            self.api_base.as_str(),
            self.api_key.expose(),
            self.requests_per_second,
            self.window_margin,
        );
        let exchange = Exchange::new(
            http,
            [
                (
                    reqwest::header::AUTHORIZATION,
                    format!("Token {}", self.api_key.expose()),
                ),
                (
                    reqwest::header::HeaderName::from_static("account-id"),
                    self.account_id.clone(),
                ),
            ],
        )
        .map_err(|e| Error::Config(e.to_string()))?;
        let limited = tower::Layer::layer(
            &KeyLimitLayer {
                limiter: Arc::clone(&limiter),
                pause: self.rate_limit_pause,
            },
            Timeout::new(exchange, self.timeout),
        );
        let policy = RetryPolicy::new(
            self.max_retries,
            self.rate_limited_retries,
            self.retry_backoff,
            self.max_retry_backoff,
        )
        .map_err(|e| Error::Config(format!("retry backoff: {e}")))?;
        Ok(SmartSuiteClient {
            inner: Arc::new(Inner {
                api_base: self.api_base,
                webhooks_base: self.webhooks_base,
                account_id: self.account_id,
                pause: self.rate_limit_pause,
                limiter,
                service: Retry::new(policy, limited),
            }),
        })
    }
}

/// A SmartSuite client for one workspace and API key. Cheap to clone; every clone (and every
/// client built for the same key and base) shares the 5 requests/s budget and the 429 pause.
#[derive(Clone)]
pub struct SmartSuiteClient {
    inner: Arc<Inner>,
}

struct Inner {
    api_base: url::Url,
    webhooks_base: url::Url,
    account_id: String,
    pause: Duration,
    limiter: Arc<KeyLimiter>,
    service: Retry<RetryPolicy, KeyLimit<Timeout<Exchange>>>,
}

impl std::fmt::Debug for SmartSuiteClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmartSuiteClient")
            .field("api_base", &self.inner.api_base.as_str())
            .field("webhooks_base", &self.inner.webhooks_base.as_str())
            .field("account_id", &self.inner.account_id)
            .finish_non_exhaustive()
    }
}

/// How a call may be repeated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A read (GET, `records/list/`, `ListEvents`): repeatable, changes nothing.
    Read,
    /// A change that is safe to repeat (update, delete).
    IdempotentWrite,
    /// A create: never repeated blindly.
    Write,
}

impl SmartSuiteClient {
    /// A builder: `api_base` like `https://app.smartsuite.com/api/v1`, `webhooks_base` like
    /// `https://webhooks.smartsuite.com`, the workspace id (`ACCOUNT-ID`) and the API key.
    pub fn builder(
        api_base: url::Url,
        webhooks_base: url::Url,
        account_id: impl Into<String>,
        api_key: SecretString,
    ) -> SmartSuiteClientBuilder {
        SmartSuiteClientBuilder {
            api_base,
            webhooks_base,
            account_id: account_id.into(),
            api_key,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            requests_per_second: 5,
            window_margin: Duration::from_millis(100),
            rate_limit_pause: Duration::from_secs(30),
            rate_limited_retries: 0,
            max_retries: 2,
            retry_backoff: Duration::from_millis(500),
            max_retry_backoff: Duration::from_secs(5),
            user_agent: concat!("suiteflow/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }

    pub fn account_id(&self) -> &str {
        &self.inner.account_id
    }

    /// How long this key stays paused after a 429, if it is.
    pub fn paused_for(&self) -> Option<Duration> {
        self.inner.limiter.paused_for()
    }

    // ---- REST ----

    /// `GET /solutions/`.
    pub async fn list_solutions(&self) -> Result<Vec<Solution>, Error> {
        let value: Value = self
            .rest(Method::GET, &["solutions"], &[], None::<&()>, Kind::Read)
            .await?;
        list_of(value)
    }

    /// `GET /applications/` (every table, with structure), or only those of one solution.
    pub async fn list_tables(&self, solution_id: Option<&str>) -> Result<Vec<Table>, Error> {
        let query: Vec<(&str, String)> = solution_id
            .map(|s| ("solution", s.to_owned()))
            .into_iter()
            .collect();
        let value: Value = self
            .rest(
                Method::GET,
                &["applications"],
                &query,
                None::<&()>,
                Kind::Read,
            )
            .await?;
        list_of(value)
    }

    /// `GET /applications/{table_id}/`: the table with its `structure`.
    pub async fn get_table(&self, table_id: &str) -> Result<Table, Error> {
        self.rest(
            Method::GET,
            &["applications", table_id],
            &[],
            None::<&()>,
            Kind::Read,
        )
        .await
    }

    /// One page of `POST /applications/{table_id}/records/list/?offset=&limit=` (limit ≤ 1000).
    pub async fn list_records(
        &self,
        table_id: &str,
        body: &ListRecords,
        offset: u64,
        limit: u32,
    ) -> Result<RecordPage, Error> {
        if limit == 0 || limit > MAX_RECORDS_PER_PAGE {
            return Err(Error::Validation {
                status: 0,
                message: format!("limit must be 1..={MAX_RECORDS_PER_PAGE}, not {limit}"),
                details: Value::Null,
            });
        }
        let query = [("offset", offset.to_string()), ("limit", limit.to_string())];
        self.rest(
            Method::POST,
            &["applications", table_id, "records", "list"],
            &query,
            Some(body),
            Kind::Read,
        )
        .await
    }

    /// Every record matching `body`, `page_size` (≤ 1000) at a time, until `total` is reached.
    pub async fn list_all_records(
        &self,
        table_id: &str,
        body: &ListRecords,
        page_size: u32,
    ) -> Result<Vec<Record>, Error> {
        let mut records = Vec::new();
        let mut offset = 0u64;
        loop {
            let page = self.list_records(table_id, body, offset, page_size).await?;
            let got = page.items.len() as u64;
            records.extend(page.items);
            offset += got;
            if got == 0 || offset >= page.total {
                return Ok(records);
            }
        }
    }

    /// `GET /applications/{table_id}/records/{record_id}/`.
    pub async fn get_record(&self, table_id: &str, record_id: &str) -> Result<Record, Error> {
        self.rest(
            Method::GET,
            &["applications", table_id, "records", record_id],
            &[],
            None::<&()>,
            Kind::Read,
        )
        .await
    }

    /// `GET /shared-files/{handle}/url/`: a public URL of a file field's file (long-lived:
    /// cache it by handle).
    pub async fn shared_file_url(&self, handle: &str) -> Result<String, Error> {
        let value: Value = self
            .rest(
                Method::GET,
                &["shared-files", handle, "url"],
                &[],
                None::<&()>,
                Kind::Read,
            )
            .await?;
        value
            .get("url")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| unexpected("no url in the shared-file answer"))
    }

    // ---- webhooks RPC ----

    /// `CreateWebhook`: returns the webhook with its `webhook_id`.
    pub async fn create_webhook(&self, new: &NewWebhook) -> Result<Webhook, Error> {
        let body = json!({"webhook": {
            "filter": new.filter,
            "kinds": new.kinds,
            "locator": {"account_id": self.inner.account_id, "solution_id": new.solution_id},
            "notification_status": {"enabled": {"url": new.notification_url}},
        }});
        let value: Value = self.rpc("CreateWebhook", &body, Kind::Write).await?;
        webhook_of(value)
    }

    /// `ListEvents` from `page_token` (empty: from the oldest retained event). Store the
    /// answer's `next_page_token` as the cursor. Calling it also keeps the webhook alive.
    pub async fn list_events(
        &self,
        webhook_id: &str,
        page_size: u32,
        page_token: &str,
    ) -> Result<EventPage, Error> {
        let body = json!({"webhook_id": webhook_id, "page_size": page_size.to_string(), "page_token": page_token});
        self.rpc("ListEvents", &body, Kind::Read).await
    }

    /// `ListEvents` page after page until an empty page; returns the events and the cursor to
    /// store.
    pub async fn list_all_events(
        &self,
        webhook_id: &str,
        page_size: u32,
        page_token: &str,
    ) -> Result<(Vec<WebhookEvent>, String), Error> {
        let mut events = Vec::new();
        let mut token = page_token.to_owned();
        loop {
            let page = self.list_events(webhook_id, page_size, &token).await?;
            if page.events.is_empty() {
                if !page.next_page_token.is_empty() {
                    token = page.next_page_token;
                }
                return Ok((events, token));
            }
            events.extend(page.events);
            if page.next_page_token.is_empty() || page.next_page_token == token {
                return Ok((events, token));
            }
            token = page.next_page_token;
        }
    }

    /// `ListWebhooks`, optionally of one solution.
    pub async fn list_webhooks(
        &self,
        solution_id: Option<&str>,
        page_size: u32,
        page_token: &str,
    ) -> Result<WebhookPage, Error> {
        let mut body = json!({"page_size": page_size.to_string(), "page_token": page_token});
        if let Some(solution) = solution_id {
            body["solution_id"] = Value::String(solution.to_owned());
        }
        self.rpc("ListWebhooks", &body, Kind::Read).await
    }

    /// `UpdateWebhook` (for instance to turn notifications back on).
    pub async fn update_webhook(&self, webhook: &Webhook) -> Result<Webhook, Error> {
        // only the documented keys: read-only ones (created_at, system_status…) stay out
        let mut body = serde_json::Map::new();
        body.insert("webhook_id".into(), json!(webhook.webhook_id));
        body.insert("kinds".into(), json!(webhook.kinds));
        for (key, value) in [
            ("locator", &webhook.locator),
            ("filter", &webhook.filter),
            ("notification_status", &webhook.notification_status),
        ] {
            if let Some(value) = value {
                body.insert(key.into(), value.clone());
            }
        }
        let value: Value = self
            .rpc(
                "UpdateWebhook",
                &json!({ "webhook": body }),
                Kind::IdempotentWrite,
            )
            .await?;
        webhook_of(value)
    }

    /// `DeleteWebhook` (its stored events go with it).
    pub async fn delete_webhook(&self, webhook_id: &str) -> Result<(), Error> {
        let _: Value = self
            .rpc(
                "DeleteWebhook",
                &json!({ "webhook_id": webhook_id }),
                Kind::IdempotentWrite,
            )
            .await?;
        Ok(())
    }

    // ---- plumbing ----

    async fn rest<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, String)],
        body: Option<&(impl Serialize + ?Sized)>,
        kind: Kind,
    ) -> Result<T, Error> {
        let mut url = self.inner.api_base.clone();
        url.path_segments_mut()
            .map_err(|()| Error::Config("the API base cannot have a path".into()))?
            .pop_if_empty()
            .extend(path)
            .push(""); // SmartSuite paths end with a slash
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        self.send(method, url, body, kind).await
    }

    async fn rpc<T: DeserializeOwned>(
        &self,
        procedure: &str,
        body: &Value,
        kind: Kind,
    ) -> Result<T, Error> {
        let mut url = self.inner.webhooks_base.clone();
        url.path_segments_mut()
            .map_err(|()| Error::Config("the webhooks base cannot have a path".into()))?
            .pop_if_empty()
            .extend([RPC_SERVICE, procedure]);
        self.send(Method::POST, url, Some(body), kind).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        url: url::Url,
        body: Option<&(impl Serialize + ?Sized)>,
        kind: Kind,
    ) -> Result<T, Error> {
        let body = match body {
            Some(b) => Some(Bytes::from(serde_json::to_vec(b).map_err(|e| {
                unexpected(&format!("could not encode the request: {e}"))
            })?)),
            None => None,
        };
        let write = kind != Kind::Read;
        let path = url.path().to_owned();
        let request = ApiRequest {
            idempotent: kind != Kind::Write,
            ..ApiRequest::new(method.clone(), url, body)
        };
        let response = match self.inner.service.clone().oneshot(request).await {
            Ok(response) => response,
            Err(error) => {
                let error = transport(&error, write);
                tracing::warn!(%method, %path, %error, "SmartSuite call failed");
                return Err(error);
            }
        };
        let status = response.status.as_u16();
        tracing::debug!(%method, %path, status, "SmartSuite call");
        if !response.status.is_success() {
            return Err(classify(status, &response.body, write, self.inner.pause));
        }
        let bytes = if response.body.is_empty() {
            Bytes::from_static(b"{}")
        } else {
            response.body
        };
        serde_json::from_slice(&bytes)
            .map_err(|e| unexpected(&format!("unexpected answer from SmartSuite: {e}")))
    }
}

fn unexpected(message: &str) -> Error {
    Error::Permanent {
        status: None,
        message: message.to_owned(),
    }
}

/// Metadata lists come as a bare array, or wrapped in `results`, `items` or `data`.
fn list_of<T: DeserializeOwned>(value: Value) -> Result<Vec<T>, Error> {
    let list = match value {
        Value::Array(_) => value,
        Value::Object(mut map) => ["results", "items", "data"]
            .iter()
            .find_map(|k| map.remove(*k).filter(Value::is_array))
            .ok_or_else(|| unexpected("a list answer without a list"))?,
        _ => return Err(unexpected("a list answer without a list")),
    };
    serde_json::from_value(list)
        .map_err(|e| unexpected(&format!("unexpected list from SmartSuite: {e}")))
}

/// `{"webhook": {...}}`, or the webhook itself.
fn webhook_of(value: Value) -> Result<Webhook, Error> {
    let inner = match value {
        Value::Object(mut map) if map.get("webhook").is_some_and(Value::is_object) => {
            map.remove("webhook").unwrap_or_default()
        }
        other => other,
    };
    serde_json::from_value(inner)
        .map_err(|e| unexpected(&format!("unexpected webhook from SmartSuite: {e}")))
}
