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

pub(crate) mod server;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use server::{Call, Outgoing, Server, lock};
pub use server::{Fault, FaultRule, RecordedRequest};

/// Settings of a [`WebflowStandIn`].
#[derive(Debug, Clone)]
pub struct WebflowConfig {
    /// Bearer tokens accepted (the first is [`WebflowStandIn::token`]).
    pub tokens: Vec<String>,
    /// Requests allowed per token per `rate_window` (Webflow: 60 or 120 per minute).
    pub rate_limit: u32,
    pub rate_window: Duration,
    /// Reject a PATCH that re-sends the item's own unchanged slug, as Webflow was reported to.
    pub reject_unchanged_slug_in_patch: bool,
}

impl Default for WebflowConfig {
    fn default() -> Self {
        Self {
            tokens: vec!["wf-test-token".to_owned()],
            rate_limit: 60,
            rate_window: Duration::from_secs(60),
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

#[derive(Debug, Clone)]
struct FieldRec {
    id: String,
    slug: String,
    display_name: String,
    field_type: String,
    required: bool,
    options: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
struct CollectionRec {
    id: String,
    site_id: String,
    display_name: String,
    slug: String,
    created_on: String,
    fields: Vec<FieldRec>,
}

#[derive(Debug, Clone)]
struct ItemRec {
    id: String,
    cms_locale_id: String,
    created_on: String,
    last_updated: String,
    last_published: Option<String>,
    is_archived: bool,
    is_draft: bool,
    staged: Map<String, Value>,
    live: Option<Map<String, Value>>,
}

impl ItemRec {
    fn json(&self, live: bool) -> Value {
        let data = if live {
            self.live.clone().unwrap_or_default()
        } else {
            self.staged.clone()
        };
        json!({
            "id": self.id, "cmsLocaleId": self.cms_locale_id, "lastPublished": self.last_published,
            "lastUpdated": self.last_updated, "createdOn": self.created_on,
            "isArchived": self.is_archived, "isDraft": self.is_draft, "fieldData": data,
        })
    }

    fn slug(&self) -> Option<&str> {
        self.staged.get("slug").and_then(Value::as_str)
    }
}

struct State {
    config: WebflowConfig,
    site_id: String,
    cms_locale_id: String,
    secondary_cms_locale_id: String,
    collections: Vec<CollectionRec>,
    items: HashMap<String, Vec<ItemRec>>,
    windows: HashMap<String, (Instant, u32)>,
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

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..24].to_owned()
}

fn parse_time(text: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// Webflow's timestamps: UTC, to the millisecond.
const STAMP: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
);

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&STAMP)
        .unwrap_or_default()
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
            windows: HashMap::new(),
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
        fields.extend(spec.fields.into_iter().map(|f| FieldRec {
            id: new_id(),
            slug: f.slug,
            display_name: f.display_name,
            field_type: f.field_type,
            required: f.required,
            options: f.options.into_iter().map(|name| (new_id(), name)).collect(),
        }));
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
            .items
            .get(collection_id)
            .map(|v| {
                v.iter()
                    .filter(|i| i.live.is_some())
                    .map(|i| i.json(true))
                    .collect()
            })
            .unwrap_or_default()
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

// ---------------------------------------------------------------------------------------------
// answers

fn error(status: u16, code: &str, message: &str, details: Value) -> Outgoing {
    Outgoing::json(
        status,
        &json!({"code": code, "message": message, "externalReference": null, "details": details}),
    )
}

fn validation(details: Vec<Value>) -> Outgoing {
    error(
        400,
        "validation_error",
        "Validation Error",
        Value::Array(details),
    )
}

fn detail(param: &str, description: &str) -> Value {
    json!({"param": param, "description": description})
}

fn not_found(what: &str) -> Outgoing {
    error(
        404,
        "resource_not_found",
        &format!("Requested resource not found: {what}"),
        json!([]),
    )
}

fn bad_request(message: &str) -> Outgoing {
    error(
        400,
        "bad_request",
        &format!("Bad Request: {message}"),
        json!([]),
    )
}

fn fault_body(status: u16) -> Outgoing {
    match status {
        429 => error(429, "too_many_requests", "Too Many Requests", json!([]))
            .header("Retry-After", 2)
            .header("X-RateLimit-Limit", 60)
            .header("X-RateLimit-Remaining", 0),
        401 => error(401, "not_authorized", "Request not authorized", json!([])),
        403 => error(
            403,
            "missing_scopes",
            "OAuthForbidden: missing scopes",
            json!([]),
        ),
        404 => not_found("simulated"),
        409 => error(409, "conflict", "Conflict", json!([])),
        400 => bad_request("simulated"),
        s if s >= 500 => error(s, "internal_error", "An internal error occurred", json!([])),
        s => error(s, "bad_request", "Simulated failure", json!([])),
    }
}

fn handle(state: &Mutex<State>, call: &Call) -> Outgoing {
    let mut state = lock(state);
    let token = call
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(token) = token.filter(|t| !t.is_empty() && state.config.tokens.iter().any(|k| k == t))
    else {
        return error(401, "not_authorized", "Request not authorized", json!([]));
    };
    // per-token fixed window
    let (limit, window) = (state.config.rate_limit, state.config.rate_window);
    let now = Instant::now();
    let entry = state.windows.entry(token.to_owned()).or_insert((now, 0));
    if now.duration_since(entry.0) >= window {
        *entry = (now, 0);
    }
    if entry.1 >= limit {
        let left = window.saturating_sub(now.duration_since(entry.0));
        let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        return error(429, "too_many_requests", "Too Many Requests", json!([]))
            .header("Retry-After", secs.max(1))
            .header("X-RateLimit-Limit", limit)
            .header("X-RateLimit-Remaining", 0);
    }
    entry.1 += 1;
    let remaining = limit - entry.1;
    route(&mut state, call)
        .header("X-RateLimit-Limit", limit)
        .header("X-RateLimit-Remaining", remaining)
}

fn route(state: &mut State, call: &Call) -> Outgoing {
    let path = call.path.strip_prefix("/v2").unwrap_or(&call.path);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let method = call.method.as_str();
    let body = call.json();
    if matches!(method, "POST" | "PATCH") && !body.is_object() {
        return bad_request("Request is malformed");
    }
    match (method, segments.as_slice()) {
        ("GET", ["sites"]) => Outgoing::json(200, &json!({"sites": [site_json(state)]})),
        ("GET", ["sites", id]) if *id == state.site_id => Outgoing::json(200, &site_json(state)),
        ("GET", ["sites", id, "collections"]) if *id == state.site_id => {
            let list: Vec<Value> = state
                .collections
                .iter()
                .map(|c| collection_json(c, false))
                .collect();
            Outgoing::json(200, &json!({"collections": list}))
        }
        ("GET", ["sites", ..]) => not_found("site"),
        ("GET", ["collections", c]) => match state.collections.iter().find(|x| x.id == *c) {
            Some(collection) => Outgoing::json(200, &collection_json(collection, true)),
            None => not_found("collection"),
        },
        (_, ["collections", c, "items", rest @ ..]) => {
            if !state.items.contains_key(*c) {
                return not_found("collection");
            }
            items_route(state, method, c, rest, call, &body)
        }
        _ => not_found("route"),
    }
}

fn items_route(
    state: &mut State,
    method: &str,
    c: &str,
    rest: &[&str],
    call: &Call,
    body: &Value,
) -> Outgoing {
    match (method, rest) {
        ("GET", []) => list(state, c, call, false),
        ("GET", ["live"]) => list(state, c, call, true),
        ("POST", []) | ("POST", ["live"]) => {
            let live = !rest.is_empty();
            let (items, single) = match body.get("items") {
                Some(Value::Array(items)) => (items.clone(), false),
                Some(_) => return bad_request("items must be an array"),
                None => (vec![body.clone()], true),
            };
            match create(state, c, &items, live) {
                Ok(mut created) if single => Outgoing::json(202, &created.remove(0)),
                Ok(created) => Outgoing::json(202, &json!({"items": created})),
                Err(out) => out_of(out),
            }
        }
        ("POST", ["bulk"]) => bulk_create(state, c, body),
        ("POST", ["publish"]) => publish(state, c, body),
        ("PATCH", []) | ("PATCH", ["live"]) => {
            let Some(Value::Array(items)) = body.get("items") else {
                return bad_request("items must be an array");
            };
            match update(state, c, items, !rest.is_empty()) {
                Ok(updated) => Outgoing::json(200, &json!({"items": updated})),
                Err(out) => out_of(out),
            }
        }
        ("DELETE", []) | ("DELETE", ["live"]) => {
            let Some(Value::Array(items)) = body.get("items") else {
                return bad_request("items must be an array");
            };
            let ids: Vec<String> = items
                .iter()
                .filter_map(|i| i.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect();
            if ids.len() != items.len() {
                return validation(vec![detail("items", "each item needs an id")]);
            }
            remove(state, c, &ids, !rest.is_empty())
        }
        ("GET", [id]) | ("GET", [id, "live"]) => {
            let live = rest.len() == 2;
            match state
                .items
                .get(c)
                .and_then(|v| v.iter().find(|i| i.id == *id))
            {
                Some(item) if !live || item.live.is_some() => Outgoing::json(200, &item.json(live)),
                _ => not_found("item"),
            }
        }
        ("PATCH", [id]) | ("PATCH", [id, "live"]) => {
            let mut entry = body.clone();
            if let Some(map) = entry.as_object_mut() {
                map.insert("id".into(), Value::String((*id).to_owned()));
            }
            match update(state, c, &[entry], rest.len() == 2) {
                Ok(mut updated) => Outgoing::json(200, &updated.remove(0)),
                Err(out) => out_of(out),
            }
        }
        ("DELETE", [id]) | ("DELETE", [id, "live"]) => {
            remove(state, c, &[(*id).to_owned()], rest.len() == 2)
        }
        _ => not_found("route"),
    }
}

/// Errors of the write helpers: a details list (400) or a whole answer.
fn out_of(value: Value) -> Outgoing {
    match value {
        Value::Array(details) => validation(details),
        other => {
            let status = other.get("status").and_then(Value::as_u64).unwrap_or(400) as u16;
            Outgoing::json(status, other.get("body").unwrap_or(&Value::Null))
        }
    }
}

fn answer(status: u16, code: &str, message: &str) -> Value {
    json!({"status": status, "body": {"code": code, "message": message, "externalReference": null, "details": []}})
}

fn site_json(state: &State) -> Value {
    json!({
        "id": state.site_id, "workspaceId": "stand-in-workspace", "displayName": "Stand-in site",
        "shortName": "stand-in", "timeZone": "UTC", "createdOn": "2024-01-01T00:00:00.000Z",
        "lastPublished": null, "lastUpdated": "2024-01-01T00:00:00.000Z",
        "locales": {
            "primary": {"id": "primary-site-locale", "cmsLocaleId": state.cms_locale_id, "enabled": true,
                        "displayName": "English", "redirect": false, "subdirectory": "", "tag": "en"},
            "secondary": [{"id": "secondary-site-locale", "cmsLocaleId": state.secondary_cms_locale_id,
                           "enabled": true, "displayName": "French", "redirect": true,
                           "subdirectory": "fr", "tag": "fr"}]
        }
    })
}

fn collection_json(c: &CollectionRec, with_fields: bool) -> Value {
    let mut v = json!({
        "id": c.id, "displayName": c.display_name, "singularName": c.display_name,
        "slug": c.slug, "createdOn": c.created_on, "lastUpdated": c.created_on,
    });
    if with_fields {
        let fields: Vec<Value> = c
            .fields
            .iter()
            .map(|f| {
                let validations = if f.field_type == "Option" {
                    json!({"options": f.options.iter().map(|(id, name)| json!({"id": id, "name": name})).collect::<Vec<_>>()})
                } else {
                    Value::Null
                };
                json!({"id": f.id, "isEditable": true, "isRequired": f.required, "type": f.field_type,
                       "slug": f.slug, "displayName": f.display_name, "helpText": null, "validations": validations})
            })
            .collect();
        v["fields"] = Value::Array(fields);
        v["siteId"] = Value::String(c.site_id.clone());
    }
    v
}

fn list(state: &State, c: &str, call: &Call, live: bool) -> Outgoing {
    let number = |name: &str, default: usize| -> Result<usize, Outgoing> {
        match call.query_param(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| validation(vec![detail(name, "must be a non-negative integer")])),
        }
    };
    let (offset, limit) = match (number("offset", 0), number("limit", 100)) {
        (Ok(o), Ok(l)) => (o, l),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    if !(1..=100).contains(&limit) {
        return validation(vec![detail("limit", "must be between 1 and 100")]);
    }
    let slug = call.query_param("slug");
    let name = call.query_param("name");
    // `createdOn[gte]` / `createdOn[lte]` (deepObject), date-times as the spec says.
    let mut created_bounds = [None, None];
    for (bound, key) in created_bounds
        .iter_mut()
        .zip(["createdOn[gte]", "createdOn[lte]"])
    {
        if let Some(text) = call.query_param(key) {
            match parse_time(&text) {
                Some(t) => *bound = Some(t),
                None => return validation(vec![detail(key, "must be a date-time")]),
            }
        }
    }
    let [created_gte, created_lte] = created_bounds;
    let all: Vec<&ItemRec> = state
        .items
        .get(c)
        .map(|v| {
            v.iter()
                .filter(|i| !live || i.live.is_some())
                .filter(|i| {
                    let data = if live {
                        i.live.as_ref().unwrap_or(&i.staged)
                    } else {
                        &i.staged
                    };
                    slug.as_deref()
                        .is_none_or(|s| data.get("slug").and_then(Value::as_str) == Some(s))
                        && name
                            .as_deref()
                            .is_none_or(|n| data.get("name").and_then(Value::as_str) == Some(n))
                        && (created_gte.is_none() && created_lte.is_none() || {
                            let created = parse_time(&i.created_on);
                            created_gte.is_none_or(|t| created.is_some_and(|c| c >= t))
                                && created_lte.is_none_or(|t| created.is_some_and(|c| c <= t))
                        })
                })
                .collect()
        })
        .unwrap_or_default();
    let page: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(|i| i.json(live))
        .collect();
    Outgoing::json(
        200,
        &json!({"items": page, "pagination": {"limit": limit, "offset": offset, "total": all.len()}}),
    )
}

fn check_batch(len: usize) -> Result<(), Value> {
    if len == 0 {
        return Err(json!([detail("items", "At least one item is required")]));
    }
    if len > 100 {
        return Err(json!([detail(
            "items",
            &format!("Maximum of 100 items per request, got {len}")
        )]));
    }
    Ok(())
}

/// Checks `fieldData` against the schema: known slugs, value types, option ids and (on
/// create) required fields.
fn check_field_data(
    collection: &CollectionRec,
    data: &Value,
    create: bool,
) -> Result<Map<String, Value>, Vec<Value>> {
    let Some(map) = data.as_object() else {
        return Err(vec![detail("fieldData", "fieldData must be an object")]);
    };
    let mut problems = Vec::new();
    for (key, value) in map {
        let Some(field) = collection.fields.iter().find(|f| f.slug == *key) else {
            problems.push(detail(key, "Field not described in schema"));
            continue;
        };
        if value.is_null() {
            continue;
        }
        let ok = match field.field_type.as_str() {
            "PlainText" | "RichText" | "Link" | "Email" | "Phone" | "Color" | "VideoLink"
            | "DateTime" | "Reference" => value.is_string(),
            "Number" => value.is_number(),
            "Switch" => value.is_boolean(),
            "Option" => {
                let ok = value
                    .as_str()
                    .is_some_and(|v| field.options.iter().any(|(id, _)| id == v));
                if !ok {
                    problems.push(detail(key, &format!("Invalid option id: {value}")));
                    continue;
                }
                true
            }
            "MultiReference" => value
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string)),
            "Image" | "File" => value
                .get("url")
                .or_else(|| value.get("fileId"))
                .is_some_and(Value::is_string),
            "MultiImage" => value.as_array().is_some_and(|a| {
                a.iter().all(|v| {
                    v.get("url")
                        .or_else(|| v.get("fileId"))
                        .is_some_and(Value::is_string)
                })
            }),
            _ => true,
        };
        if !ok {
            problems.push(detail(
                key,
                &format!("Value has the wrong type for a {} field", field.field_type),
            ));
        }
    }
    if create {
        for field in collection.fields.iter().filter(|f| f.required) {
            let present = match map.get(&field.slug) {
                None | Some(Value::Null) => false,
                Some(Value::String(s)) => !s.trim().is_empty(),
                Some(_) => true,
            };
            if !present {
                problems.push(detail(&field.slug, "Field is required"));
            }
        }
    }
    if problems.is_empty() {
        Ok(map.clone())
    } else {
        Err(problems)
    }
}

fn check_top_level(entry: &Value, allowed: &[&str]) -> Result<(), Vec<Value>> {
    let Some(map) = entry.as_object() else {
        return Err(vec![detail("items", "each item must be an object")]);
    };
    let mut problems = Vec::new();
    for (key, value) in map {
        if !allowed.contains(&key.as_str()) {
            problems.push(detail(key, "Field not described in schema"));
        }
        if matches!(key.as_str(), "isDraft" | "isArchived") && !value.is_boolean() {
            problems.push(detail(key, "must be a boolean"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn duplicate_slug(slug: &str) -> Value {
    json!([detail(
        "slug",
        &format!("Unique value is already in database: '{slug}'")
    )])
}

fn create(state: &mut State, c: &str, entries: &[Value], live: bool) -> Result<Vec<Value>, Value> {
    check_batch(entries.len())?;
    let collection = state
        .collections
        .iter()
        .find(|x| x.id == c)
        .cloned()
        .ok_or_else(|| {
            answer(
                404,
                "resource_not_found",
                "Requested resource not found: collection",
            )
        })?;
    let existing: Vec<String> = state
        .items
        .get(c)
        .map(|v| {
            v.iter()
                .filter_map(|i| i.slug().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut new_slugs: Vec<String> = Vec::new();
    let mut prepared = Vec::new();
    for entry in entries {
        check_top_level(
            entry,
            &["isDraft", "isArchived", "cmsLocaleId", "fieldData"],
        )
        .map_err(Value::Array)?;
        let data = check_field_data(
            &collection,
            entry.get("fieldData").unwrap_or(&Value::Null),
            true,
        )
        .map_err(Value::Array)?;
        let slug = data
            .get("slug")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if existing.contains(&slug) || new_slugs.contains(&slug) {
            return Err(duplicate_slug(&slug));
        }
        new_slugs.push(slug);
        if let Some(locale) = entry.get("cmsLocaleId")
            && locale.as_str() != Some(&state.cms_locale_id)
            && locale.as_str() != Some(&state.secondary_cms_locale_id)
        {
            return Err(json!([detail("cmsLocaleId", "Unknown cmsLocaleId")]));
        }
        prepared.push((entry, data));
    }
    let stamp = now();
    let mut out = Vec::new();
    for (entry, data) in prepared {
        let item = ItemRec {
            id: new_id(),
            cms_locale_id: entry
                .get("cmsLocaleId")
                .and_then(Value::as_str)
                .map_or_else(|| state.cms_locale_id.clone(), str::to_owned),
            created_on: stamp.clone(),
            last_updated: stamp.clone(),
            last_published: live.then(|| stamp.clone()),
            is_archived: entry
                .get("isArchived")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            is_draft: if live {
                false
            } else {
                entry
                    .get("isDraft")
                    .and_then(Value::as_bool)
                    .unwrap_or(true)
            },
            live: live.then(|| data.clone()),
            staged: data,
        };
        out.push(item.json(false));
        state.items.entry(c.to_owned()).or_default().push(item);
    }
    Ok(out)
}

fn bulk_create(state: &mut State, c: &str, body: &Value) -> Outgoing {
    if let Err(problems) = check_top_level(
        body,
        &["cmsLocaleIds", "isDraft", "isArchived", "fieldData"],
    ) {
        return validation(problems);
    }
    let datas: Vec<Value> = match body.get("fieldData") {
        Some(Value::Array(list)) => list.clone(),
        Some(obj @ Value::Object(_)) => vec![obj.clone()],
        _ => return validation(vec![detail("fieldData", "fieldData is required")]),
    };
    if let Some(locales) = body.get("cmsLocaleIds") {
        let known = [
            state.cms_locale_id.clone(),
            state.secondary_cms_locale_id.clone(),
        ];
        let ok = locales.as_array().is_some_and(|l| {
            l.iter()
                .all(|x| x.as_str().is_some_and(|s| known.iter().any(|k| k == s)))
        });
        if !ok {
            return validation(vec![detail("cmsLocaleIds", "Unknown cmsLocaleId")]);
        }
    }
    let mut entries = Vec::new();
    for data in datas {
        let mut entry = json!({"fieldData": data});
        for key in ["isDraft", "isArchived"] {
            if let Some(v) = body.get(key) {
                entry[key] = v.clone();
            }
        }
        entries.push(entry);
    }
    match create(state, c, &entries, false) {
        Ok(items) => Outgoing::json(202, &json!({"items": items})),
        Err(out) => out_of(out),
    }
}

fn update(state: &mut State, c: &str, entries: &[Value], live: bool) -> Result<Vec<Value>, Value> {
    check_batch(entries.len())?;
    let collection = state
        .collections
        .iter()
        .find(|x| x.id == c)
        .cloned()
        .ok_or_else(|| {
            answer(
                404,
                "resource_not_found",
                "Requested resource not found: collection",
            )
        })?;
    let reject_own_slug = state.config.reject_unchanged_slug_in_patch;
    let items = state.items.entry(c.to_owned()).or_default();
    let mut plans = Vec::new();
    for entry in entries {
        check_top_level(
            entry,
            &["id", "isDraft", "isArchived", "cmsLocaleId", "fieldData"],
        )
        .map_err(Value::Array)?;
        let Some(id) = entry.get("id").and_then(Value::as_str) else {
            return Err(json!([detail("id", "must have required property 'id'")]));
        };
        let Some(index) = items.iter().position(|i| i.id == id) else {
            return Err(answer(
                404,
                "resource_not_found",
                &format!("Requested resource not found: item {id}"),
            ));
        };
        let changes = check_field_data(
            &collection,
            entry.get("fieldData").unwrap_or(&json!({})),
            false,
        )
        .map_err(Value::Array)?;
        if let Some(slug) = changes.get("slug") {
            let Some(slug) = slug.as_str().filter(|s| !s.is_empty()) else {
                return Err(json!([detail("slug", "Field is required")]));
            };
            let taken = items
                .iter()
                .any(|other| other.slug() == Some(slug) && (other.id != id || reject_own_slug));
            if taken
                || plans
                    .iter()
                    .any(|(_, _, ch): &(usize, &Value, Map<String, Value>)| {
                        ch.get("slug").and_then(Value::as_str) == Some(slug)
                    })
            {
                return Err(duplicate_slug(slug));
            }
        }
        for (key, value) in &changes {
            let field = collection.fields.iter().find(|f| f.slug == *key);
            if field.is_some_and(|f| f.required)
                && (value.is_null() || value.as_str().is_some_and(|s| s.trim().is_empty()))
            {
                return Err(json!([detail(key, "Field is required")]));
            }
        }
        if live && items[index].last_published.is_none() {
            return Err(answer(
                409,
                "conflict",
                "Live PATCH updates can't be applied to items that have never been published",
            ));
        }
        plans.push((index, entry, changes));
    }
    let stamp = now();
    let mut out = Vec::new();
    for (index, entry, changes) in plans {
        let item = &mut items[index];
        for (key, value) in changes {
            item.staged.insert(key, value);
        }
        if let Some(v) = entry.get("isArchived").and_then(Value::as_bool) {
            item.is_archived = v;
        }
        if let Some(v) = entry.get("isDraft").and_then(Value::as_bool) {
            // Since 2025 isDraft no longer unpublishes a live item.
            item.is_draft = v;
        }
        item.last_updated = stamp.clone();
        if live {
            item.live = Some(item.staged.clone());
            item.last_published = Some(stamp.clone());
            item.is_draft = false;
        }
        out.push(item.json(live));
    }
    Ok(out)
}

fn remove(state: &mut State, c: &str, ids: &[String], unpublish: bool) -> Outgoing {
    if let Err(problems) = check_batch(ids.len()) {
        return out_of(problems);
    }
    let items = state.items.entry(c.to_owned()).or_default();
    if let Some(missing) = ids.iter().find(|id| !items.iter().any(|i| &i.id == *id)) {
        return not_found(&format!("item {missing}"));
    }
    if unpublish {
        for item in items.iter_mut().filter(|i| ids.contains(&i.id)) {
            item.live = None;
            item.last_published = None;
            item.is_draft = true;
        }
    } else {
        items.retain(|i| !ids.contains(&i.id));
    }
    Outgoing::empty(204)
}

fn publish(state: &mut State, c: &str, body: &Value) -> Outgoing {
    let ids: Vec<String> = match (body.get("itemIds"), body.get("items")) {
        (Some(Value::Array(ids)), None) if ids.iter().all(Value::is_string) => ids
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        (None, Some(Value::Array(items)))
            if items
                .iter()
                .all(|i| i.get("id").is_some_and(Value::is_string)) =>
        {
            items
                .iter()
                .filter_map(|i| i.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect()
        }
        _ => {
            return validation(vec![detail(
                "itemIds",
                "itemIds must be an array of item ids (or items with ids)",
            )]);
        }
    };
    if let Err(problems) = check_batch(ids.len()) {
        return out_of(problems);
    }
    let stamp = now();
    let items = state.items.entry(c.to_owned()).or_default();
    let mut published = Vec::new();
    let mut errors = Vec::new();
    for id in ids {
        match items.iter_mut().find(|i| i.id == id) {
            Some(item) => {
                item.live = Some(item.staged.clone());
                item.last_published = Some(stamp.clone());
                item.is_draft = false;
                published.push(id);
            }
            None => errors.push(json!(format!("Staging item ID {id} not found."))),
        }
    }
    Outgoing::json(
        202,
        &json!({"publishedItemIds": published, "errors": errors}),
    )
}
