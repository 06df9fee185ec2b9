//! `WebflowClient`: one method per CMS call a sync needs.

use std::sync::{Arc, Mutex};
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

use crate::error::{RequestKind, classify, transport};
use crate::wire::{check_batch, id_list, item_path, items_of, items_path};
use crate::{
    BulkCreate, Collection, CollectionSummary, Error, Item, ItemData, ItemPage, ItemUpdate,
    ListItems, PublishResult, RateInfo, Reply, Site, Target,
};
use suiteflow_http::{ApiRequest, Exchange, RetryPolicy};

/// Webflow's cap on items per bulk call and per list page.
pub const MAX_ITEMS_PER_CALL: usize = 100;

/// Settings of a [`WebflowClient`]; start with [`WebflowClient::builder`].
#[derive(Debug, Clone)]
pub struct WebflowClientBuilder {
    base: url::Url,
    token: SecretString,
    timeout: Duration,
    connect_timeout: Duration,
    max_retries: u32,
    retry_backoff: Duration,
    max_retry_backoff: Duration,
    user_agent: String,
}

impl WebflowClientBuilder {
    /// Time allowed for one attempt, answer body included (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Time allowed to open a connection (default 10 s, never more than `timeout`).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Extra attempts for a transient failure of an idempotent call (default 2). Creates are
    /// never retried by the client.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// First wait between attempts, doubled each time up to `max`, each plus up to 30 % within
    /// `max` (default 250 ms, 5 s).
    pub fn retry_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.retry_backoff = first;
        self.max_retry_backoff = max.max(first);
        self
    }

    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    pub fn build(self) -> Result<WebflowClient, Error> {
        if !matches!(self.base.scheme(), "http" | "https") || self.base.cannot_be_a_base() {
            return Err(Error::Config("the base URL must be an http(s) URL".into()));
        }
        crate::install_crypto_provider();
        let http = reqwest::Client::builder()
            .user_agent(self.user_agent)
            .connect_timeout(self.connect_timeout.min(self.timeout))
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        let exchange = Exchange::new(
            http,
            [(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {}", self.token.expose()),
            )],
        )
        .map_err(|e| Error::Config(format!("the API token: {e}")))?;
        // A 429 is the caller's to wait out (`Retry-After`), never retried here.
        let policy = RetryPolicy::new(
            self.max_retries,
            0,
            self.retry_backoff,
            self.max_retry_backoff,
        )
        .map_err(|e| Error::Config(format!("retry backoff: {e}")))?;
        let service = Retry::new(policy, Timeout::new(exchange, self.timeout));
        Ok(WebflowClient {
            inner: Arc::new(Inner {
                base: self.base,
                service,
                last_rate: Mutex::new(None),
            }),
        })
    }
}

/// A Webflow CMS v2 client. Cheap to clone; clones share the connection pool and the last
/// rate-limit headers seen.
#[derive(Clone)]
pub struct WebflowClient {
    inner: Arc<Inner>,
}

struct Inner {
    base: url::Url,
    service: Retry<RetryPolicy, Timeout<Exchange>>,
    last_rate: Mutex<Option<RateInfo>>,
}

impl std::fmt::Debug for WebflowClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebflowClient")
            .field("base", &self.inner.base.as_str())
            .finish_non_exhaustive()
    }
}

impl WebflowClient {
    /// A builder for `base` (e.g. `https://api.webflow.com/v2`; paths are appended to it) and
    /// an API token (site token or OAuth access token).
    pub fn builder(base: url::Url, token: SecretString) -> WebflowClientBuilder {
        WebflowClientBuilder {
            base,
            token,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_retries: 2,
            retry_backoff: Duration::from_millis(250),
            max_retry_backoff: Duration::from_secs(5),
            user_agent: concat!("suiteflow/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }

    /// A client with the default settings.
    pub fn new(base: url::Url, token: SecretString) -> Result<Self, Error> {
        Self::builder(base, token).build()
    }

    pub fn base_url(&self) -> &url::Url {
        &self.inner.base
    }

    /// The rate-limit headers of the last answer any clone of this client received.
    pub fn last_rate_info(&self) -> Option<RateInfo> {
        self.inner.last_rate.lock().ok().and_then(|g| *g)
    }

    // ---- sites and collections ----

    /// `GET /sites`.
    pub async fn list_sites(&self) -> Result<Reply<Vec<Site>>, Error> {
        #[derive(serde::Deserialize)]
        struct Sites {
            #[serde(default)]
            sites: Vec<Site>,
        }
        let reply: Reply<Sites> = self.call(Method::GET, &["sites"], &[], None::<&()>).await?;
        Ok(Reply {
            value: reply.value.sites,
            rate: reply.rate,
        })
    }

    /// `GET /sites/{site_id}`: the site with its CMS locale ids.
    pub async fn get_site(&self, site_id: &str) -> Result<Reply<Site>, Error> {
        self.call(Method::GET, &["sites", site_id], &[], None::<&()>)
            .await
    }

    /// `GET /sites/{site_id}/collections` (without fields).
    pub async fn list_collections(
        &self,
        site_id: &str,
    ) -> Result<Reply<Vec<CollectionSummary>>, Error> {
        #[derive(serde::Deserialize)]
        struct Collections {
            #[serde(default)]
            collections: Vec<CollectionSummary>,
        }
        let reply: Reply<Collections> = self
            .call(
                Method::GET,
                &["sites", site_id, "collections"],
                &[],
                None::<&()>,
            )
            .await?;
        Ok(Reply {
            value: reply.value.collections,
            rate: reply.rate,
        })
    }

    /// `GET /collections/{collection_id}`: fields, types and option ids.
    pub async fn get_collection(&self, collection_id: &str) -> Result<Reply<Collection>, Error> {
        self.call(
            Method::GET,
            &["collections", collection_id],
            &[],
            None::<&()>,
        )
        .await
    }

    // ---- reading items ----

    /// One page of `GET /collections/{id}/items` (or `/items/live`).
    pub async fn list_items(
        &self,
        collection_id: &str,
        query: &ListItems,
    ) -> Result<Reply<ItemPage>, Error> {
        let mut params = vec![("offset", query.offset.to_string())];
        if let Some(limit) = query.limit {
            params.push(("limit", limit.to_string()));
        }
        if let Some(slug) = &query.slug {
            params.push(("slug", slug.clone()));
        }
        if let Some(name) = &query.name {
            params.push(("name", name.clone()));
        }
        if let Some(locale) = &query.cms_locale_id {
            params.push(("cmsLocaleId", locale.clone()));
        }
        for (name, since) in [
            ("createdOn[gte]", query.created_since),
            ("lastUpdated[gte]", query.updated_since),
        ] {
            if let Some(since) = since {
                let text = since
                    .to_offset(time::UtcOffset::UTC)
                    .format(&time::format_description::well_known::Rfc3339)
                    .map_err(|e| Error::Permanent {
                        status: None,
                        code: None,
                        message: format!("{name} {since} cannot be sent: {e}"),
                    })?;
                params.push((name, text));
            }
        }
        let path: &[&str] = match query.target {
            Target::Staged => &["collections", collection_id, "items"],
            Target::Live => &["collections", collection_id, "items", "live"],
        };
        self.call(Method::GET, path, &params, None::<&()>).await
    }

    /// Every item matching `query`, page after page from `query.offset` (100 per page unless
    /// `query.limit` says less). The rate info is that of the last page.
    pub async fn list_all_items(
        &self,
        collection_id: &str,
        query: &ListItems,
    ) -> Result<Reply<Vec<Item>>, Error> {
        let mut query = query.clone();
        let page_size = query
            .limit
            .unwrap_or(MAX_ITEMS_PER_CALL as u32)
            .clamp(1, MAX_ITEMS_PER_CALL as u32);
        query.limit = Some(page_size);
        let mut items = Vec::new();
        loop {
            let reply = self.list_items(collection_id, &query).await?;
            let page = reply.value;
            let got = page.items.len() as u32;
            items.extend(page.items);
            query.offset += got;
            if got == 0 || query.offset >= page.pagination.total {
                return Ok(Reply {
                    value: items,
                    rate: reply.rate,
                });
            }
        }
    }

    /// The staged item with this slug, if any (`GET …/items?slug=`): how a create whose
    /// outcome is unknown is resolved.
    pub async fn find_item_by_slug(
        &self,
        collection_id: &str,
        slug: &str,
    ) -> Result<Reply<Option<Item>>, Error> {
        let query = ListItems {
            slug: Some(slug.to_owned()),
            limit: Some(2),
            ..ListItems::default()
        };
        let reply = self.list_items(collection_id, &query).await?;
        let item = reply
            .value
            .items
            .into_iter()
            .find(|i| i.slug() == Some(slug));
        Ok(Reply {
            value: item,
            rate: reply.rate,
        })
    }

    /// `GET /collections/{id}/items/{item_id}` (or `/live`).
    pub async fn get_item(
        &self,
        collection_id: &str,
        item_id: &str,
        target: Target,
    ) -> Result<Reply<Item>, Error> {
        let path = item_path(collection_id, item_id, target);
        self.call(Method::GET, &path, &[], None::<&()>).await
    }

    // ---- creating ----

    /// `POST /collections/{id}/items` (staged) or `/items/live`: one item. Never retried by the
    /// client: on `Transient { outcome_unknown: true }` look the slug up first.
    pub async fn create_item(
        &self,
        collection_id: &str,
        item: &ItemData,
        target: Target,
    ) -> Result<Reply<Item>, Error> {
        let path = items_path(collection_id, target);
        self.call(Method::POST, &path, &[], Some(item)).await
    }

    /// The same with up to 100 items in one call (`{"items": […]}`).
    pub async fn create_items(
        &self,
        collection_id: &str,
        items: &[ItemData],
        target: Target,
    ) -> Result<Reply<Vec<Item>>, Error> {
        check_batch(items.len())?;
        let path = items_path(collection_id, target);
        let reply: Reply<Value> = self
            .call(Method::POST, &path, &[], Some(&json!({ "items": items })))
            .await?;
        Ok(Reply {
            value: items_of(reply.value)?,
            rate: reply.rate,
        })
    }

    /// `POST /collections/{id}/items/bulk`: up to 100 items, each created in every locale of
    /// `cmsLocaleIds` (the primary locale when empty).
    pub async fn create_items_bulk(
        &self,
        collection_id: &str,
        bulk: &BulkCreate,
    ) -> Result<Reply<Vec<Item>>, Error> {
        check_batch(bulk.field_data.len())?;
        let reply: Reply<Value> = self
            .call(
                Method::POST,
                &["collections", collection_id, "items", "bulk"],
                &[],
                Some(bulk),
            )
            .await?;
        Ok(Reply {
            value: items_of(reply.value)?,
            rate: reply.rate,
        })
    }

    // ---- updating ----

    /// `PATCH /collections/{id}/items/{item_id}` (or `/live`). A live update of an item that
    /// was never published fails with [`Error::NeverPublished`].
    pub async fn update_item(
        &self,
        collection_id: &str,
        item_id: &str,
        changes: &ItemData,
        target: Target,
    ) -> Result<Reply<Item>, Error> {
        let path = item_path(collection_id, item_id, target);
        self.call(Method::PATCH, &path, &[], Some(changes)).await
    }

    /// `PATCH /collections/{id}/items` (or `/items/live`): up to 100 items.
    pub async fn update_items(
        &self,
        collection_id: &str,
        updates: &[ItemUpdate],
        target: Target,
    ) -> Result<Reply<Vec<Item>>, Error> {
        check_batch(updates.len())?;
        let path = items_path(collection_id, target);
        let reply: Reply<Value> = self
            .call(
                Method::PATCH,
                &path,
                &[],
                Some(&json!({ "items": updates })),
            )
            .await?;
        Ok(Reply {
            value: items_of(reply.value)?,
            rate: reply.rate,
        })
    }

    // ---- deleting, unpublishing, publishing ----

    /// `DELETE /collections/{id}/items/{item_id}`: removes the staged item (a repeat gives
    /// `NotFound`).
    pub async fn delete_item(
        &self,
        collection_id: &str,
        item_id: &str,
    ) -> Result<Reply<()>, Error> {
        let path = item_path(collection_id, item_id, Target::Staged);
        self.call_empty(Method::DELETE, &path, None::<&()>).await
    }

    /// `DELETE /collections/{id}/items`: up to 100 items.
    pub async fn delete_items(
        &self,
        collection_id: &str,
        item_ids: &[String],
    ) -> Result<Reply<()>, Error> {
        check_batch(item_ids.len())?;
        let path = items_path(collection_id, Target::Staged);
        self.call_empty(Method::DELETE, &path, Some(&id_list(item_ids)))
            .await
    }

    /// `DELETE /collections/{id}/items/{item_id}/live`: takes the item off the live site (it
    /// stays as a draft).
    pub async fn unpublish_item(
        &self,
        collection_id: &str,
        item_id: &str,
    ) -> Result<Reply<()>, Error> {
        let path = item_path(collection_id, item_id, Target::Live);
        self.call_empty(Method::DELETE, &path, None::<&()>).await
    }

    /// `DELETE /collections/{id}/items/live`: unpublishes up to 100 items.
    pub async fn unpublish_items(
        &self,
        collection_id: &str,
        item_ids: &[String],
    ) -> Result<Reply<()>, Error> {
        check_batch(item_ids.len())?;
        let path = items_path(collection_id, Target::Live);
        self.call_empty(Method::DELETE, &path, Some(&id_list(item_ids)))
            .await
    }

    /// `POST /collections/{id}/items/publish` with up to 100 ids. Check `errors`: the call can
    /// publish some items and not others. Not retried by the client (it is a POST).
    pub async fn publish_items(
        &self,
        collection_id: &str,
        item_ids: &[String],
    ) -> Result<Reply<PublishResult>, Error> {
        check_batch(item_ids.len())?;
        let body = json!({ "itemIds": item_ids });
        self.call(
            Method::POST,
            &["collections", collection_id, "items", "publish"],
            &[],
            Some(&body),
        )
        .await
    }

    // ---- plumbing ----

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, String)],
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<Reply<T>, Error> {
        let (bytes, rate) = self.send(method, path, query, body).await?;
        let value = serde_json::from_slice(&bytes).map_err(|e| Error::Permanent {
            status: None,
            code: None,
            message: format!("unexpected answer from Webflow: {e}"),
        })?;
        Ok(Reply { value, rate })
    }

    async fn call_empty(
        &self,
        method: Method,
        path: &[&str],
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<Reply<()>, Error> {
        let (_, rate) = self.send(method, path, &[], body).await?;
        Ok(Reply { value: (), rate })
    }

    async fn send(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, String)],
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<(Bytes, RateInfo), Error> {
        let mut url = self.inner.base.clone();
        url.path_segments_mut()
            .map_err(|()| Error::Config("the base URL cannot have a path".into()))?
            .pop_if_empty()
            .extend(path);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let body = match body {
            Some(b) => Some(Bytes::from(serde_json::to_vec(b).map_err(|e| {
                Error::Permanent {
                    status: None,
                    code: None,
                    message: format!("could not encode the request: {e}"),
                }
            })?)),
            None => None,
        };
        let kind = RequestKind {
            write: method != Method::GET,
            live_patch: method == Method::PATCH && path.last() == Some(&"live"),
        };
        let request = ApiRequest::new(method.clone(), url, body);
        let started = std::time::Instant::now();
        let result = self.inner.service.clone().oneshot(request).await;
        let response = match result {
            Ok(response) => response,
            Err(error) => {
                let error = transport(&error, kind);
                tracing::warn!(%method, path = %path.join("/"), %error, "Webflow call failed");
                return Err(error);
            }
        };
        let rate = RateInfo::from_headers(&response.headers);
        if let Ok(mut last) = self.inner.last_rate.lock() {
            *last = Some(rate);
        }
        let status = response.status.as_u16();
        tracing::debug!(%method, path = %path.join("/"), status, remaining = ?rate.remaining, elapsed_ms = started.elapsed().as_millis() as u64, "Webflow call");
        if response.status.is_success() {
            Ok((response.body, rate))
        } else {
            Err(classify(status, &response.body, rate, kind))
        }
    }
}
