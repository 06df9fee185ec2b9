//! Printing: JSON shapes (camelCase, like the HTTP API) and plain-text tables.

use serde_json::{Value, json};
use suiteflow_store::queue::Event;
use suiteflow_store::{Connection, WebhookScheme};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::Settings;

/// Prints `value` as pretty JSON on standard output.
pub fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    );
}

/// RFC 3339 text of a timestamp.
pub fn timestamp(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

fn opt_timestamp(at: Option<OffsetDateTime>) -> Value {
    at.map(|t| Value::String(timestamp(t)))
        .unwrap_or(Value::Null)
}

/// The scheme shown to people: `smartsuite` for an `hmac` connection with a SmartSuite
/// notification token.
pub fn scheme_label(connection: &Connection) -> &'static str {
    match connection.webhook_scheme {
        WebhookScheme::Hmac if connection.smartsuite_webhook_token_hash.is_some() => "smartsuite",
        scheme => scheme.as_str(),
    }
}

/// The signed-push URL of a connection.
pub fn push_url(settings: &Settings, connection: &Connection) -> String {
    settings
        .public_url
        .join(&format!("api/hooks/{}", connection.id))
}

/// A connection as JSON, without any secret.
pub fn connection_json(settings: &Settings, c: &Connection) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "status": c.status.as_str(),
        "smartsuiteAccountId": c.smartsuite_account_id,
        "smartsuiteTableId": c.smartsuite_table_id,
        "smartsuiteSolutionId": c.smartsuite_solution_id,
        "webflowSiteId": c.webflow_site_id,
        "webflowCollectionId": c.webflow_collection_id,
        "webhookScheme": scheme_label(c),
        "webhookUrl": push_url(settings, c),
        "smartsuiteWebhookId": c.smartsuite_webhook_id,
        "smartsuiteWebhookKeptAliveAt": opt_timestamp(c.smartsuite_webhook_kept_alive_at),
        "rateLimitPerMin": c.rate_limit_per_min,
        "maxRetries": c.max_retries,
        "retryBackoffMs": c.retry_backoff_ms,
        "syncDelayMs": c.sync_delay_ms,
        "encryptionKeyId": c.encryption_key_id,
        "lastSuccessAt": opt_timestamp(c.last_success_at),
        "lastErrorAt": opt_timestamp(c.last_error_at),
        "lastErrorMessage": c.last_error_message,
        "consecutiveErrors": c.consecutive_errors,
        "createdAt": timestamp(c.created_at),
        "updatedAt": timestamp(c.updated_at),
    })
}

/// An event as JSON; `full` adds the payload, the Webflow response and the lease.
pub fn event_json(e: &Event, full: bool) -> Value {
    let mut value = json!({
        "id": e.id,
        "seq": e.seq,
        "connectionId": e.connection_id,
        "kind": e.kind.as_str(),
        "externalId": e.external_id,
        "eventType": e.event_type,
        "idempotencyKey": e.idempotency_key,
        "status": e.status.as_str(),
        "attempts": e.attempts,
        "retryAfter": opt_timestamp(e.retry_after),
        "error": e.error,
        "warnings": e.warnings,
        "partialSuccess": e.partial_success,
        "webflowItemId": e.webflow_item_id,
        "queuedAt": timestamp(e.queued_at),
        "startedAt": opt_timestamp(e.started_at),
        "processedAt": opt_timestamp(e.processed_at),
        "durationMs": e.duration_ms,
    });
    if full && let Value::Object(map) = &mut value {
        map.insert("payload".into(), e.payload.clone());
        map.insert("payloadHash".into(), json!(e.payload_hash));
        map.insert(
            "errorDetail".into(),
            e.error_detail.clone().unwrap_or(Value::Null),
        );
        map.insert(
            "webflowResponse".into(),
            e.webflow_response.clone().unwrap_or(Value::Null),
        );
        map.insert("lockedBy".into(), json!(e.locked_by));
        map.insert("leaseExpiresAt".into(), opt_timestamp(e.lease_expires_at));
        map.insert(
            "webhookTimestamp".into(),
            opt_timestamp(e.webhook_timestamp),
        );
    }
    value
}

/// Prints rows as a left-aligned table with a header.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let text: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = widths.get(i).copied().unwrap_or(0)))
            .collect();
        println!("{}", text.join("  ").trim_end());
    };
    line(header.iter().map(|h| (*h).to_string()).collect());
    for row in rows {
        line(row.clone());
    }
}

/// At most `n` characters of `text`, with an ellipsis when cut.
pub fn truncate(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(n.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}
