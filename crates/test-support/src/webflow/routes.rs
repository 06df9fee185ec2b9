//! How the Webflow stand-in answers a request: the token and rate-limit checks, the routes, the
//! listing of items, and the error bodies Webflow's API answers with.

use std::sync::Mutex;
use std::time::Instant;

use serde_json::{Value, json};

use super::items::{bulk_create, create, publish, remove, update};
use super::state::{CollectionRec, ItemRec, State, parse_time};
use crate::server::{Call, Outgoing, lock};

// ---------------------------------------------------------------------------------------------
// answers

fn error(status: u16, code: &str, message: &str, details: Value) -> Outgoing {
    Outgoing::json(
        status,
        &json!({"code": code, "message": message, "externalReference": null, "details": details}),
    )
}

pub(super) fn validation(details: Vec<Value>) -> Outgoing {
    error(
        400,
        "validation_error",
        "Validation Error",
        Value::Array(details),
    )
}

pub(super) fn detail(param: &str, description: &str) -> Value {
    json!({"param": param, "description": description})
}

pub(super) fn not_found(what: &str) -> Outgoing {
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

pub(super) fn fault_body(status: u16) -> Outgoing {
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

pub(super) fn handle(state: &Mutex<State>, call: &Call) -> Outgoing {
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
    let limit = (state.config.token_limits.get(token).copied()).unwrap_or(state.config.rate_limit);
    let window = state.config.rate_window;
    let now = Instant::now();
    if let Some(until) = state
        .blocked
        .get(token)
        .copied()
        .filter(|until| *until > now)
    {
        return too_many(until - now, limit);
    }
    let entry = state.windows.entry(token.to_owned()).or_insert((now, 0));
    if now.duration_since(entry.0) >= window {
        *entry = (now, 0);
    }
    if entry.1 >= limit {
        return too_many(window.saturating_sub(now.duration_since(entry.0)), limit);
    }
    entry.1 += 1;
    let remaining = limit - entry.1;
    route(&mut state, call)
        .header("X-RateLimit-Limit", limit)
        .header("X-RateLimit-Remaining", remaining)
}

/// Webflow's 429: `Retry-After` in whole seconds (rounded up, at least 1).
fn too_many(left: std::time::Duration, limit: u32) -> Outgoing {
    let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    error(429, "too_many_requests", "Too Many Requests", json!([]))
        .header("Retry-After", secs.max(1))
        .header("X-RateLimit-Limit", limit)
        .header("X-RateLimit-Remaining", 0)
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
            let item = if live {
                state.live_items(c).find(|i| i.id == *id)
            } else {
                state
                    .items
                    .get(c)
                    .and_then(|v| v.iter().find(|i| i.id == *id))
            };
            match item {
                Some(item) => Outgoing::json(200, &item.json(live)),
                None => not_found("item"),
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
pub(super) fn out_of(value: Value) -> Outgoing {
    match value {
        Value::Array(details) => validation(details),
        other => {
            let status = other.get("status").and_then(Value::as_u64).unwrap_or(400) as u16;
            Outgoing::json(status, other.get("body").unwrap_or(&Value::Null))
        }
    }
}

pub(super) fn answer(status: u16, code: &str, message: &str) -> Value {
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
    // `createdOn[gte]`, `createdOn[lte]` and `lastUpdated[gte]` (deepObject), RFC 3339
    // date-times as Webflow's API takes them.
    let mut created_bounds = [None, None, None];
    for (bound, key) in
        created_bounds
            .iter_mut()
            .zip(["createdOn[gte]", "createdOn[lte]", "lastUpdated[gte]"])
    {
        if let Some(text) = call.query_param(key) {
            match parse_time(&text) {
                Some(t) => *bound = Some(t),
                None => return validation(vec![detail(key, "must be a date-time")]),
            }
        }
    }
    let [created_gte, created_lte, updated_gte] = created_bounds;
    let candidates: Box<dyn Iterator<Item = &ItemRec>> = if live {
        Box::new(state.live_items(c))
    } else {
        Box::new(state.items.get(c).into_iter().flatten())
    };
    let all: Vec<&ItemRec> = candidates
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
                && updated_gte.is_none_or(|t| parse_time(&i.last_updated).is_some_and(|u| u >= t))
        })
        .collect();
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
