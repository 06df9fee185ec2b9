//! What the SmartSuite stand-in holds (solutions, tables and their records, webhooks and their
//! events, files, per-key rate windows, pings sent) and the record changes that store events
//! for the webhooks that want them and pick the notification URLs to ping.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::{Map, Value, json};

use super::{Ping, SmartSuiteConfig};

#[derive(Debug, Clone)]
pub(super) struct TableRec {
    pub(super) id: String,
    pub(super) solution: String,
    pub(super) name: String,
    pub(super) structure: Vec<Value>,
    pub(super) records: Vec<Map<String, Value>>,
    pub(super) next_autonumber: u64,
}

#[derive(Debug, Clone)]
pub(super) struct WebhookRec {
    pub(super) webhook: Map<String, Value>,
    pub(super) events: Vec<(u64, Value)>,
}

#[derive(Debug, Default)]
pub(super) struct KeyWindow {
    pub(super) second: u64,
    pub(super) count: u32,
    pub(super) blocked_until: Option<Instant>,
}

pub(super) struct State {
    pub(super) config: SmartSuiteConfig,
    pub(super) solutions: Vec<(String, String)>,
    pub(super) tables: Vec<TableRec>,
    pub(super) webhooks: Vec<WebhookRec>,
    pub(super) files: HashMap<String, String>,
    pub(super) windows: HashMap<String, KeyWindow>,
    pub(super) sequence: u64,
    pub(super) base: String,
    pub(super) pings: Vec<Ping>,
}

pub(super) fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..24].to_owned()
}

pub(super) fn now() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

/// SmartSuite omits empty values: `""`, `[]`, `false` and `null` never appear in a record.
pub(super) fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

pub(super) fn ping_target(state: &State, hook: &WebhookRec) -> Option<(String, Value)> {
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

pub(super) type PingList = Vec<(String, String, Value)>;

pub(super) fn create_record(
    state: &mut State,
    table_id: &str,
    values: Value,
) -> Option<(String, PingList)> {
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

pub(super) fn update_record(
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

pub(super) fn delete_record(
    state: &mut State,
    table_id: &str,
    record_id: &str,
) -> Option<PingList> {
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
