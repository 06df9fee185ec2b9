//! A local Webflow CMS v2 stand-in, strict where the real API is strict: bearer token, required
//! `name`/`slug`/`isRequired` fields, unique slugs (the real 400 `validation_error` body), the
//! 100-item bulk cap, unknown field slugs, Option values as option ids, the 409 of a live PATCH
//! of a never-published item, and a per-token rate limit with `X-RateLimit-*` headers and
//! 429 + `Retry-After`. Faults on demand and a log of every request served.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use suiteflow_test_support::webflow::{CollectionSpec, FieldSpec, WebflowStandIn};
//! let webflow = WebflowStandIn::start().await?;
//! let products = webflow.add_collection(
//!     CollectionSpec::new("Products").field(FieldSpec::new("price", "Number").required()),
//! );
//! // point the client at webflow.base_url() with webflow.token(); afterwards:
//! assert!(webflow.items(&products).is_empty());
//! # Ok(()) }
//! ```

mod items;
mod routes;
mod state;
mod validation;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

pub use crate::server::{Fault, FaultRule, RecordedRequest};
use crate::server::{Server, lock};
use items::create;
use routes::{fault_body, handle};
use state::{CollectionRec, FieldRec, STAMP, State, new_id, now, parse_time};

/// Settings of a [`WebflowStandIn`].
#[derive(Debug, Clone)]
pub struct WebflowConfig {
    /// Bearer tokens accepted (the first is [`WebflowStandIn::token`]).
    pub tokens: Vec<String>,
    /// Requests allowed per token per `rate_window` (Webflow: 60 or 120 per minute).
    pub rate_limit: u32,
    pub rate_window: Duration,
    /// Tokens with a limit of their own (another plan), instead of `rate_limit`.
    pub token_limits: HashMap<String, u32>,
    /// File URLs (by prefix) Webflow cannot fetch: like Webflow with `skipInvalidFiles`
    /// (its default), a write carrying one succeeds without that file.
    pub unfetchable_files: Vec<String>,
    /// Reject a PATCH that re-sends the item's own unchanged slug, as Webflow was reported to.
    pub reject_unchanged_slug_in_patch: bool,
}

impl Default for WebflowConfig {
    fn default() -> Self {
        Self {
            tokens: vec!["wf-test-token".to_owned()],
            rate_limit: 60,
            rate_window: Duration::from_secs(60),
            token_limits: HashMap::new(),
            unfetchable_files: Vec::new(),
            reject_unchanged_slug_in_patch: true,
        }
    }
}

/// A collection to create with [`WebflowStandIn::add_collection`]; `name` and `slug` fields
/// are always added (both required).
#[derive(Debug, Clone)]
pub struct CollectionSpec {
    pub display_name: String,
    pub slug: String,
    pub fields: Vec<FieldSpec>,
}

impl CollectionSpec {
    pub fn new(display_name: &str) -> Self {
        let slug = display_name
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        Self {
            display_name: display_name.to_owned(),
            slug,
            fields: Vec::new(),
        }
    }

    pub fn field(mut self, field: FieldSpec) -> Self {
        self.fields.push(field);
        self
    }
}

/// A custom field: `field_type` is Webflow's type name (`PlainText`, `Number`, `Option`, …).
#[derive(Debug, Clone)]
pub struct FieldSpec {
    pub slug: String,
    pub display_name: String,
    pub field_type: String,
    pub required: bool,
    /// Option names, for `Option` fields (ids are generated).
    pub options: Vec<String>,
}

impl FieldSpec {
    pub fn new(slug: &str, field_type: &str) -> Self {
        Self {
            slug: slug.to_owned(),
            display_name: slug.to_owned(),
            field_type: field_type.to_owned(),
            required: false,
            options: Vec::new(),
        }
    }

    /// An `Option` field with these choices.
    pub fn option(slug: &str, names: &[&str]) -> Self {
        Self {
            options: names.iter().map(|n| (*n).to_owned()).collect(),
            ..Self::new(slug, "Option")
        }
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
}

/// A running Webflow stand-in; stops when dropped.
pub struct WebflowStandIn {
    server: Server,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for WebflowStandIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebflowStandIn")
            .field("addr", &self.server.addr())
            .finish_non_exhaustive()
    }
}

impl WebflowStandIn {
    /// Starts with [`WebflowConfig::default`]: token `wf-test-token`, 60 requests per minute.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(WebflowConfig::default()).await
    }

    pub async fn start_with(config: WebflowConfig) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(State {
            config,
            site_id: new_id(),
            cms_locale_id: new_id(),
            secondary_cms_locale_id: new_id(),
            collections: Vec::new(),
            items: HashMap::new(),
            live_only: HashMap::new(),
            windows: HashMap::new(),
            blocked: HashMap::new(),
        }));
        let handler_state = Arc::clone(&state);
        let server = Server::start(
            Arc::new(move |call| handle(&handler_state, call)),
            fault_body,
        )
        .await?;
        Ok(Self { server, state })
    }

    /// The API base, `http://127.0.0.1:<port>/v2` (routes also answer without `/v2`).
    pub fn base_url(&self) -> url::Url {
        let text = format!("http://{}/v2", self.server.addr());
        url::Url::parse(&text).unwrap_or_else(|_| unreachable!("a socket address makes a URL"))
    }

    /// The first accepted token.
    pub fn token(&self) -> String {
        lock(&self.state)
            .config
            .tokens
            .first()
            .cloned()
            .unwrap_or_default()
    }

    pub fn add_token(&self, token: &str) {
        lock(&self.state).config.tokens.push(token.to_owned());
    }

    /// The one site's id.
    pub fn site_id(&self) -> String {
        lock(&self.state).site_id.clone()
    }

    /// The site's primary CMS locale id.
    pub fn cms_locale_id(&self) -> String {
        lock(&self.state).cms_locale_id.clone()
    }

    /// Accepts `token` too, with its own limit per window (a site on another plan).
    pub fn add_token_with_limit(&self, token: &str, limit: u32) {
        let mut state = lock(&self.state);
        state.config.tokens.push(token.to_owned());
        state.config.token_limits.insert(token.to_owned(), limit);
    }

    /// Files whose URL starts with `prefix` cannot be fetched: writes drop them silently, as
    /// Webflow does with a file it cannot fetch or that is over 4 MB.
    pub fn make_files_unfetchable(&self, prefix: &str) {
        lock(&self.state)
            .config
            .unfetchable_files
            .push(prefix.to_owned());
    }

    /// Refuses every request with `token` for `duration`, each with a 429 whose `Retry-After`
    /// is the whole seconds left: Webflow holding a token back after a burst.
    pub fn block_token(&self, token: &str, duration: Duration) {
        lock(&self.state)
            .blocked
            .insert(token.to_owned(), std::time::Instant::now() + duration);
    }

    /// Changes the per-token rate limit (and starts fresh windows).
    pub fn set_rate_limit(&self, limit: u32, window: Duration) {
        let mut state = lock(&self.state);
        state.config.rate_limit = limit;
        state.config.rate_window = window;
        state.windows.clear();
    }

    pub fn set_reject_unchanged_slug_in_patch(&self, reject: bool) {
        lock(&self.state).config.reject_unchanged_slug_in_patch = reject;
    }

    /// Creates a collection on the site and returns its id.
    pub fn add_collection(&self, spec: CollectionSpec) -> String {
        let mut fields = vec![
            FieldRec {
                id: new_id(),
                slug: "name".into(),
                display_name: "Name".into(),
                field_type: "PlainText".into(),
                required: true,
                options: Vec::new(),
            },
            FieldRec {
                id: new_id(),
                slug: "slug".into(),
                display_name: "Slug".into(),
                field_type: "PlainText".into(),
                required: true,
                options: Vec::new(),
            },
        ];
        fields.extend(spec.fields.into_iter().map(field_rec));
        let mut state = lock(&self.state);
        let id = new_id();
        let site_id = state.site_id.clone();
        state.collections.push(CollectionRec {
            id: id.clone(),
            site_id,
            display_name: spec.display_name,
            slug: spec.slug,
            created_on: now(),
            fields,
        });
        state.items.insert(id.clone(), Vec::new());
        id
    }

    /// The id of an Option field's choice.
    pub fn option_id(&self, collection_id: &str, field_slug: &str, name: &str) -> Option<String> {
        let state = lock(&self.state);
        let collection = state.collections.iter().find(|c| c.id == collection_id)?;
        let field = collection.fields.iter().find(|f| f.slug == field_slug)?;
        field
            .options
            .iter()
            .find(|(_, n)| n == name)
            .map(|(id, _)| id.clone())
    }

    /// Removes the field `field_slug` from a collection's schema, as an editor deleting the
    /// field in Webflow's designer would. Items keep the values they hold under that slug, but
    /// later writes naming it are refused ("Field not described in schema"). Returns whether the
    /// collection had such a field.
    /// Adds a field to a collection (someone edits it in the designer). `false` without such
    /// a collection.
    pub fn add_field(&self, collection_id: &str, field: FieldSpec) -> bool {
        let mut state = lock(&self.state);
        let Some(collection) = state.collections.iter_mut().find(|c| c.id == collection_id) else {
            return false;
        };
        collection.fields.push(field_rec(field));
        true
    }

    /// Adds a choice to an `Option` field (someone edits the collection in the designer);
    /// returns its id, or `None` without such a field.
    pub fn add_option(&self, collection_id: &str, field_slug: &str, name: &str) -> Option<String> {
        let mut state = lock(&self.state);
        let collection = state
            .collections
            .iter_mut()
            .find(|c| c.id == collection_id)?;
        let field = collection
            .fields
            .iter_mut()
            .find(|f| f.slug == field_slug)?;
        let id = new_id();
        field.options.push((id.clone(), name.to_owned()));
        Some(id)
    }

    pub fn remove_field(&self, collection_id: &str, field_slug: &str) -> bool {
        let mut state = lock(&self.state);
        let Some(collection) = state.collections.iter_mut().find(|c| c.id == collection_id) else {
            return false;
        };
        let before = collection.fields.len();
        collection.fields.retain(|f| f.slug != field_slug);
        collection.fields.len() != before
    }

    /// Staged items of a collection, as the API shows them, in creation order.
    pub fn items(&self, collection_id: &str) -> Vec<Value> {
        let state = lock(&self.state);
        state
            .items
            .get(collection_id)
            .map(|v| v.iter().map(|i| i.json(false)).collect())
            .unwrap_or_default()
    }

    /// Published items (their live version).
    pub fn live_items(&self, collection_id: &str) -> Vec<Value> {
        let state = lock(&self.state);
        state
            .live_items(collection_id)
            .map(|i| i.json(true))
            .collect()
    }

    /// The staged item with this slug.
    pub fn item_by_slug(&self, collection_id: &str, slug: &str) -> Option<Value> {
        let state = lock(&self.state);
        state
            .items
            .get(collection_id)?
            .iter()
            .find(|i| i.slug() == Some(slug))
            .map(|i| i.json(false))
    }

    /// Adds items directly (validated like a create), published or staged; returns their ids.
    pub fn seed_items(
        &self,
        collection_id: &str,
        field_data: Vec<Value>,
        published: bool,
    ) -> Result<Vec<String>, Value> {
        let items: Vec<Value> = field_data
            .into_iter()
            .map(|fd| json!({"isDraft": !published, "fieldData": fd}))
            .collect();
        let mut state = lock(&self.state);
        let out = create(&mut state, collection_id, &items, published)?;
        Ok(out
            .iter()
            .filter_map(|i| i["id"].as_str().map(str::to_owned))
            .collect())
    }

    /// Moves the `createdOn` of every item now in the collection `by` into the past, as if the
    /// collection had held them for that long.
    pub fn backdate_items(&self, collection_id: &str, by: Duration) {
        let mut state = lock(&self.state);
        for item in state.items.get_mut(collection_id).into_iter().flatten() {
            if let Some(created) = parse_time(&item.created_on)
                && let Ok(text) = (created - by).format(&STAMP)
            {
                item.created_on = text;
            }
        }
    }

    /// Applies `rule` to the next matching requests.
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

    /// Every request served so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.server.requests()
    }

    pub fn clear_requests(&self) {
        self.server.clear_requests();
    }
}

fn field_rec(f: FieldSpec) -> FieldRec {
    FieldRec {
        id: new_id(),
        slug: f.slug,
        display_name: f.display_name,
        field_type: f.field_type,
        required: f.required,
        options: f.options.into_iter().map(|name| (new_id(), name)).collect(),
    }
}
