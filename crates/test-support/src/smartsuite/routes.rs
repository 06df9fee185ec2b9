//! How the SmartSuite stand-in answers a request: the `ACCOUNT-ID`, token and rate-limit
//! checks, the REST routes, and the error bodies SmartSuite answers with (the webhooks RPC is
//! in `rpc`, `records/list/` in `query`).

use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::query::list_records;
use super::rpc::rpc;
use super::state::{State, TableRec, create_record};
use crate::server::{Call, Outgoing, lock};

const RPC_PREFIX: &str = "/smartsuite.webhooks.engine.Webhooks/";
const REST_PREFIX: &str = "/api/v1/";

fn unix_second() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// answers

pub(super) fn detail(status: u16, message: &str) -> Outgoing {
    Outgoing::json(status, &json!({"detail": message}))
}

pub(super) fn twirp(status: u16, code: &str, message: &str) -> Outgoing {
    Outgoing::json(status, &json!({"code": code, "msg": message}))
}

pub(super) fn fault_body(status: u16) -> Outgoing {
    match status {
        429 => detail(429, "Request was throttled."),
        401 => detail(401, "Invalid token."),
        403 => detail(403, "You do not have permission to perform this action."),
        404 => detail(404, "Not found."),
        s if s >= 500 => Outgoing::text(s, "Server Error (simulated)"),
        s => detail(s, "Simulated failure"),
    }
}

pub(super) fn handle(state: &Mutex<State>, call: &Call) -> Outgoing {
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
