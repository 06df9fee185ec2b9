//! The two webhook routes: signed pushes, and SmartSuite's notifications (docs/architecture.md,
//! "The ingress").

use std::cell::Cell;

use actix_web::{HttpRequest, HttpResponse, web};
use ring::digest::{SHA256, digest};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value, json};
use suiteflow_store::{ConnectionId, ConnectionStatus, Enqueued, NewEvent};
use suiteflow_webhook_security::{Scheme, unix_now};
use time::OffsetDateTime;
use tracing::Instrument as _;
use uuid::Uuid;

use crate::body::Body;
use crate::error::ApiError;
use crate::state::{AppState, Hook};

/// Longest accepted `record_id` and `x-idempotency-key`.
const MAX_ID_LEN: usize = 256;
const IDEMPOTENCY_HEADER: &str = "x-idempotency-key";
const TIMESTAMP_HEADER: &str = "x-smartsuite-timestamp";
const EVENT_TYPES: [&str; 3] = ["record_created", "record_updated", "record_deleted"];

/// `POST /api/hooks/{connection_id}`: a signed push, one record change per request.
pub async fn push(
    request: HttpRequest,
    path: web::Path<String>,
    body: Result<Body, ApiError>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let span = tracing::info_span!("webhook", otel.kind = "server", route = "push");
    // A sender that traces its own requests gets the event's trace under its own.
    suiteflow_telemetry::continue_from(&span, |name| {
        request.headers().get(name).and_then(|v| v.to_str().ok())
    });
    let outcome = async { accept_push(&request, &path, &body?, &state).await }
        .instrument(span)
        .await;
    crate::metrics::record("push", &outcome);
    outcome
}

async fn accept_push(
    request: &HttpRequest,
    connection_id: &str,
    body: &[u8],
    state: &AppState,
) -> Result<HttpResponse, ApiError> {
    let hook = active_hook(state, connection_id).await?;
    let verifier = &hook.verifier;

    // The signature is checked over the raw bytes before anything parses them.
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    let verified = verifier.verify(header, body, &state.window, unix_now()).map_err(|e| {
        tracing::info!(connection_id = %hook.id, outcome = "rejected", reason = %e, "webhook refused");
        if e.is_timestamp() { ApiError::InvalidTimestamp } else { ApiError::InvalidSignature }
    })?;

    let push = Push::parse(body)?;
    let payload_hash = hex::encode(digest(&SHA256, body));
    let idempotency_key = match verifier.scheme() {
        Scheme::Standard => verified
            .webhook_id
            .clone()
            .ok_or(ApiError::InvalidSignature)?,
        Scheme::Hmac => {
            // Both are read, and refused if unreadable, whichever is used: the verifier above
            // took an unreadable timestamp as none.
            let timestamp = readable(request, TIMESTAMP_HEADER)?;
            match readable(request, IDEMPOTENCY_HEADER)?
                .map(str::trim)
                .filter(|k| !k.is_empty())
            {
                Some(key) if key.len() > MAX_ID_LEN => {
                    return Err(ApiError::BadRequest(
                        "x-idempotency-key is longer than 256 characters",
                    ));
                }
                Some(key) => key.to_string(),
                None => derived_key(hook.id, &push.record_id, timestamp, &payload_hash),
            }
        }
    };

    let webhook_timestamp = verified
        .timestamp
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok());
    let mut event = NewEvent::record(
        hook.id,
        push.record_id.clone(),
        push.event_type,
        idempotency_key,
    )
    .with_payload(push.payload);
    event.payload_hash = Some(payload_hash);
    event.webhook_timestamp = webhook_timestamp;
    // The worker continues this request's trace when it processes the event.
    event.trace_context = suiteflow_telemetry::trace_context(&tracing::Span::current());

    let enqueued = enqueue(state, event).await?;
    tracing::info!(
        connection_id = %hook.id,
        event_id = %enqueued.id().0,
        outcome = if enqueued.is_duplicate() { "duplicate" } else { "queued" },
        "webhook accepted"
    );
    Ok(match (enqueued, verifier.scheme()) {
        (Enqueued::Inserted(id), _) => {
            HttpResponse::Accepted().json(json!({ "eventId": id.0, "status": "queued" }))
        }
        (Enqueued::Duplicate(id), Scheme::Hmac) => {
            HttpResponse::Conflict().json(json!({ "error": "Duplicate event", "eventId": id.0 }))
        }
        (Enqueued::Duplicate(id), Scheme::Standard) => {
            HttpResponse::Ok().json(json!({ "eventId": id.0, "duplicate": true }))
        }
    })
}

/// `POST /api/hooks/smartsuite/{connection_id}/{token}`: SmartSuite's notification ping. It
/// carries no data and no signature: the URL token is the secret, and the `webhookId` must be
/// the connection's. It queues one `pull` (at most one pending per connection).
pub async fn smartsuite_notification(
    path: web::Path<(String, String)>,
    body: Result<Body, ApiError>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (connection_id, token) = path.into_inner();
    let span = tracing::info_span!("webhook", otel.kind = "server", route = "smartsuite");
    let outcome = async { accept_notification(&connection_id, &token, &body?, &state).await }
        .instrument(span)
        .await;
    crate::metrics::record("smartsuite", &outcome);
    outcome
}

async fn accept_notification(
    connection_id: &str,
    token: &str,
    body: &[u8],
    state: &AppState,
) -> Result<HttpResponse, ApiError> {
    let hook = active_hook(state, connection_id).await?;
    let token_ok = hook
        .smartsuite_token_hash
        .as_deref()
        .is_some_and(|stored| suiteflow_webhook_security::url_token_matches(token, stored));
    if !token_ok {
        tracing::info!(connection_id = %hook.id, outcome = "rejected", reason = "token", "notification refused");
        return Err(ApiError::InvalidSignature);
    }

    #[derive(Deserialize)]
    struct Ping {
        #[serde(rename = "webhookId")]
        webhook_id: Option<String>,
    }
    let ping: Ping =
        serde_json::from_slice(body).map_err(|_| ApiError::BadRequest("Body is not valid JSON"))?;
    let webhook_id = match (ping.webhook_id, hook.smartsuite_webhook_id.as_deref()) {
        (Some(got), Some(expected)) if got == expected => got,
        _ => {
            tracing::info!(connection_id = %hook.id, outcome = "rejected", reason = "webhook_id", "notification refused");
            return Err(ApiError::InvalidSignature);
        }
    };

    let mut event = NewEvent::pull(hook.id, webhook_id, format!("pull:{}", Uuid::new_v4()));
    event.trace_context = suiteflow_telemetry::trace_context(&tracing::Span::current());
    let enqueued = enqueue(state, event).await?;
    tracing::info!(
        connection_id = %hook.id,
        event_id = %enqueued.id().0,
        outcome = if enqueued.is_duplicate() { "coalesced" } else { "queued" },
        "smartsuite notification"
    );
    Ok(HttpResponse::Ok().finish())
}

/// The connection named in the path, which must exist and be active.
async fn active_hook(
    state: &AppState,
    connection_id: &str,
) -> Result<std::sync::Arc<Hook>, ApiError> {
    let id = Uuid::parse_str(connection_id).map_err(|_| ApiError::ConnectionNotFound)?;
    let hook = state.hook(ConnectionId(id)).await.map_err(|e| {
        tracing::error!(connection_id = %id, error = %e, "loading the connection failed");
        ApiError::Unavailable
    })?;
    let hook = hook.ok_or(ApiError::ConnectionNotFound)?;
    if hook.status != ConnectionStatus::Active {
        return Err(ApiError::ConnectionNotActive);
    }
    Ok(hook)
}

/// Inserts `event` in the next group commit; answers only once it is committed.
async fn enqueue(state: &AppState, event: NewEvent) -> Result<Enqueued, ApiError> {
    let connection_id = event.connection_id;
    state.committer.enqueue(event).await.map_err(|e| {
        tracing::error!(connection_id = %connection_id.0, error = %e, "enqueue failed");
        ApiError::Unavailable
    })
}

/// The header `name`, refused when present but not visible ASCII. `HeaderValue::to_str` fails
/// for any other byte (UTF-8 included), and treating such a header as absent would silently
/// change how the event is deduplicated (a derived key instead of the sender's).
fn readable<'r>(request: &'r HttpRequest, name: &str) -> Result<Option<&'r str>, ApiError> {
    request
        .headers()
        .get(name)
        .map(|value| value.to_str())
        .transpose()
        .map_err(|_| {
            ApiError::BadRequest(
                "x-idempotency-key and x-smartsuite-timestamp must be visible ASCII",
            )
        })
}

/// Without an `x-idempotency-key`, the key is SHA-256 of `connection_id-record_id-timestamp`.
/// A sender that sends no timestamp either gets the body's hash (`payload_hash`, hex) in its
/// place, so a resent request is a duplicate while a different change to the same record is not.
fn derived_key(
    connection: ConnectionId,
    record_id: &str,
    timestamp: Option<&str>,
    payload_hash: &str,
) -> String {
    let stamp = timestamp
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(payload_hash);
    hex::encode(digest(
        &SHA256,
        format!("{}-{record_id}-{stamp}", connection.0).as_bytes(),
    ))
}

/// The body checks of a push on their own, for the fuzz target in `bin/ingress/fuzz`: the
/// record id, event type and payload that would be queued, or the 400 the ingress answers.
/// Not part of the ingress's interface.
#[doc(hidden)]
pub fn parse_push(body: &[u8]) -> Result<(String, &'static str, Value), ApiError> {
    Push::parse(body).map(|push| (push.record_id, push.event_type, push.payload))
}

/// The idempotency key of an `hmac` push sent without one, for the same fuzz target.
#[doc(hidden)]
pub fn derive_idempotency_key(
    connection: Uuid,
    record_id: &str,
    timestamp: Option<&str>,
    body: &[u8],
) -> String {
    let payload_hash = hex::encode(digest(&SHA256, body));
    derived_key(
        ConnectionId(connection),
        record_id,
        timestamp,
        &payload_hash,
    )
}

/// A parsed push body.
struct Push {
    record_id: String,
    event_type: &'static str,
    payload: Value,
}

impl Push {
    fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let payload = strict_json(body)?;
        let object = payload
            .as_object()
            .ok_or(ApiError::BadRequest("Body must be a JSON object"))?;
        let record_id = match object.get("record_id") {
            Some(Value::String(id)) if !id.trim().is_empty() => id.trim().to_string(),
            // An integer id is taken as its decimal text. A number that is not an integer
            // within 64 bits (`1.5`, `1e3`, `18446744073709551616`) reaches us as an f64, whose
            // text is not the sender's: two different ids could become one.
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
            Some(Value::Number(_)) => {
                return Err(ApiError::BadRequest(
                    "record_id must be a string or an integer of at most 64 bits",
                ));
            }
            None | Some(Value::Null) => return Err(ApiError::BadRequest("Missing record_id")),
            Some(_) => return Err(ApiError::BadRequest("record_id must be a non-empty string")),
        };
        if record_id.len() > MAX_ID_LEN || record_id.chars().any(char::is_control) {
            return Err(ApiError::BadRequest(
                "record_id must be at most 256 characters without control characters",
            ));
        }
        let event_type = match object.get("event_type") {
            None | Some(Value::Null) => "record_updated",
            Some(Value::String(t)) => {
                EVENT_TYPES
                    .into_iter()
                    .find(|known| known == t)
                    .ok_or(ApiError::BadRequest(
                        "event_type must be record_created, record_updated or record_deleted",
                    ))?
            }
            Some(_) => return Err(ApiError::BadRequest("event_type must be a string")),
        };
        if let Some(data) = object.get("data")
            && !(data.is_object() || data.is_null())
        {
            return Err(ApiError::BadRequest("data must be a JSON object"));
        }
        Ok(Self {
            record_id,
            event_type,
            payload,
        })
    }
}

/// Parses a push body as [`serde_json::from_slice`] does (same recursion limit of 128 nested
/// arrays and objects, same numbers), refusing two things that parse but must not be queued:
///
/// - U+0000 in any string or key. PostgreSQL's `jsonb` (like its `text`) cannot hold it: the
///   insert fails with "unsupported Unicode escape sequence", which the ingress could only
///   report as 503, a retryable answer to a payload that can never be stored, so the sender
///   would retry it forever. It is refused here, before anything is written, as 400.
/// - A key twice in one object. `serde_json::Value` would keep the last value silently, so the
///   queued payload would not be the one the sender meant to send, and a parser that keeps the
///   first (as some do) would read another `record_id` from the same signed bytes.
fn strict_json(body: &[u8]) -> Result<Value, ApiError> {
    let refusal = Cell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    Strict(&refusal)
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value))
        .map_err(|_| ApiError::BadRequest(refusal.get().unwrap_or("Body is not valid JSON")))
}

const NUL_REFUSED: &str = "Body must not contain \\u0000 in a string or key";
const DUPLICATE_REFUSED: &str = "Body must not repeat a key in an object";

/// A [`Value`] visitor that records why it refused a body in its cell.
#[derive(Clone, Copy)]
struct Strict<'a>(&'a Cell<Option<&'static str>>);

impl Strict<'_> {
    fn refuse<E: de::Error>(self, why: &'static str) -> E {
        self.0.set(Some(why));
        E::custom(why)
    }

    fn text<E: de::Error>(self, text: &str) -> Result<(), E> {
        if text.contains('\0') {
            return Err(self.refuse(NUL_REFUSED));
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        // As `Value` does: JSON has no NaN or infinity, so this is never `Null` in practice.
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        self.text(value)?;
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Value, E> {
        self.text(&value)?;
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            self.text(&key)?;
            if object.contains_key(&key) {
                return Err(self.refuse(DUPLICATE_REFUSED));
            }
            let value = map.next_value_seed(self)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(body: &str) -> Option<&'static str> {
        match strict_json(body.as_bytes()) {
            Ok(_) => None,
            Err(ApiError::BadRequest(why)) => Some(why),
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn strict_json_reads_what_serde_json_reads() {
        for body in [
            r#"{"a":[1,-2,3.5,1e300,18446744073709551615,null,true,"x\\u0000"],"b":{"c":{}}}"#,
            r#""\u00e9\ud83d\ude00""#,
            "[]",
        ] {
            let expected: Value = serde_json::from_str(body).ok().unwrap_or_default();
            assert_eq!(strict_json(body.as_bytes()).ok(), Some(expected), "{body}");
        }
    }

    #[test]
    fn strict_json_refuses_nul_duplicates_and_what_serde_json_refuses() {
        assert_eq!(refusal(r#"{"a":"x\u0000"}"#), Some(NUL_REFUSED));
        assert_eq!(refusal(r#"{"a":{"\u0000":1}}"#), Some(NUL_REFUSED));
        assert_eq!(refusal(r#"["\u0000"]"#), Some(NUL_REFUSED));
        assert_eq!(refusal(r#"{"a":1,"a":1}"#), Some(DUPLICATE_REFUSED));
        assert_eq!(refusal(r#"{"a":{"b":1,"b":2}}"#), Some(DUPLICATE_REFUSED));
        let not_json = Some("Body is not valid JSON");
        assert_eq!(refusal(&"[".repeat(200)), not_json);
        assert_eq!(refusal("1e400"), not_json);
        assert_eq!(refusal(r#"{"a":1} x"#), not_json);
        assert_eq!(refusal(r#""\ud800""#), not_json);
    }
}
