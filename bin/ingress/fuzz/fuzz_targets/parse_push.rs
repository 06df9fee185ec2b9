//! A push body as the ingress reads it (after the signature check): arbitrary bytes into
//! `ingress::hooks::parse_push` (the checks of `Push::parse`) and, for accepted bodies,
//! `derive_idempotency_key`.
//!
//! Invariants: nothing panics, and the only answer is a 400; a body refused as "not valid JSON"
//! is one `serde_json` refuses too; an accepted body is one `serde_json` reads, to exactly the
//! queued payload: an object without U+0000 in any string or key, whose `data` is an object
//! or absent/null, whose `event_type` is one of the three (absent: `record_updated`), and
//! whose `record_id` (the trimmed string, or the integer's text) is non-empty, at most 256
//! characters, and without control characters. The derived key is 64 lowercase hex digits,
//! the same for an absent and a blank timestamp, and changes with the timestamp.
//!
//! Run: `cargo +nightly fuzz run parse_push` (from bin/ingress/fuzz).
#![no_main]

use ingress::error::ApiError;
use ingress::hooks::{derive_idempotency_key, parse_push};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use uuid::Uuid;

const EVENT_TYPES: [&str; 3] = ["record_created", "record_updated", "record_deleted"];
const NOT_JSON: &str = "Body is not valid JSON";

fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

fuzz_target!(|body: &[u8]| {
    let reference = serde_json::from_slice::<Value>(body);
    let (record_id, event_type, payload) = match parse_push(body) {
        Ok(accepted) => accepted,
        Err(ApiError::BadRequest(why)) => {
            if why == NOT_JSON {
                assert!(reference.is_err(), "refused as not JSON: {reference:?}");
            }
            return;
        }
        Err(other) => panic!("parse_push answered {other:?}"),
    };

    assert!(!record_id.is_empty());
    assert!(record_id.len() <= 256 && record_id.chars().count() <= 256);
    assert!(!record_id.chars().any(char::is_control), "{record_id:?}");
    assert_eq!(record_id.trim(), record_id);
    assert!(EVENT_TYPES.contains(&event_type));

    let reference = reference.expect("accepted a body serde_json refuses");
    assert_eq!(payload, reference, "the queued payload is not the body");
    assert!(!has_nul(&payload), "U+0000 in an accepted payload");
    let object = payload
        .as_object()
        .expect("an accepted payload is an object");
    match object.get("record_id") {
        Some(Value::String(s)) => assert_eq!(s.trim(), record_id),
        Some(Value::Number(n)) => assert_eq!(n.to_string(), record_id),
        other => panic!("accepted record_id {other:?}"),
    }
    match object.get("event_type") {
        None | Some(Value::Null) => assert_eq!(event_type, "record_updated"),
        Some(Value::String(t)) => assert_eq!(t, event_type),
        other => panic!("accepted event_type {other:?}"),
    }
    assert!(matches!(
        object.get("data"),
        None | Some(Value::Null | Value::Object(_))
    ));

    let connection = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001);
    let key = derive_idempotency_key(connection, &record_id, None, body);
    assert!(
        key.len() == 64 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "{key}"
    );
    assert_eq!(
        key,
        derive_idempotency_key(connection, &record_id, Some(" \t"), body)
    );
    let stamped = derive_idempotency_key(connection, &record_id, Some("1700000000"), body);
    assert_ne!(key, stamped);
    assert_eq!(
        stamped,
        derive_idempotency_key(connection, &record_id, Some(" 1700000000 "), b"other")
    );
});
