//! The SmartSuite stand-in's webhooks RPC (served on the same port as the REST API):
//! `CreateWebhook`, `ListEvents` with string cursor tokens, `ListWebhooks`, `UpdateWebhook` and
//! `DeleteWebhook`.

use serde_json::{Map, Value, json};

use super::routes::twirp;
use super::state::{State, WebhookRec, now};
use crate::server::Outgoing;

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

pub(super) fn rpc(state: &mut State, procedure: &str, body: &Value) -> Outgoing {
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
