//! A stable content hash of `fieldData`, so the worker can skip writes that change nothing.

use std::fmt::Write as _;

use ring::digest::{SHA256, digest};
use serde_json::{Map, Value};

/// SHA-256 (lowercase hex) of the canonical JSON of `field_data`: object keys sorted at every
/// level, no whitespace, serde_json's number and string encoding. Independent of the map's
/// insertion order (and of serde_json's `preserve_order` feature).
pub fn content_hash(field_data: &Map<String, Value>) -> String {
    let mut canonical = String::with_capacity(256);
    write_object(&mut canonical, field_data);
    hex(digest(&SHA256, canonical.as_bytes()).as_ref())
}

/// Like [`content_hash`] of `value` (any JSON).
pub(crate) fn value_hash(value: &Value) -> String {
    let mut canonical = String::with_capacity(256);
    write_value(&mut canonical, value);
    hex(digest(&SHA256, canonical.as_bytes()).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) => write_object(out, map),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn write_object(out: &mut String, map: &Map<String, Value>) {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    out.push('{');
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Value::String(key.clone()).to_string());
        out.push(':');
        write_value(out, value);
    }
    out.push('}');
}
