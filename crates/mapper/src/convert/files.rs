//! Files and images: SmartSuite file handles resolved to public URLs, as Webflow's
//! `{url, alt}`.

use serde_json::{Map, Value, json};

use crate::resolve::Resolvers;
use crate::schema::webflow::Field as WfField;
use crate::value::{excerpt, file_alt, shape};
use crate::warning::WarningKind;

/// Webflow's limit per image or file.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// `{url, alt}` for a SmartSuite file object, a `{url, alt}` object or a URL string. A
/// SmartSuite file over [`MAX_FILE_BYTES`] (by its metadata) is left out with a warning naming
/// it, and its URL is not asked for.
pub(super) fn file_value(
    value: &Value,
    target: &WfField,
    ctx: &dyn Resolvers,
    w: &mut Vec<WarningKind>,
) -> Option<Value> {
    match value {
        Value::Object(map) if map.contains_key("handle") => {
            let handle = map.get("handle").and_then(Value::as_str).unwrap_or("");
            let metadata = map.get("metadata");
            if let Some(bytes) = metadata
                .and_then(|m| m.get("size"))
                .and_then(Value::as_u64)
                .filter(|size| *size > MAX_FILE_BYTES)
            {
                let file = metadata
                    .and_then(|m| m.get("filename"))
                    .and_then(Value::as_str)
                    .unwrap_or(handle)
                    .to_string();
                w.push(WarningKind::FileTooLarge { file, bytes });
                return None;
            }
            let Some(url) = ctx.public_url(handle) else {
                w.push(WarningKind::UnresolvedFile {
                    handle: handle.to_string(),
                });
                return None;
            };
            Some(url_alt(url, file_alt(map)))
        }
        Value::Object(map)
            if map.get("url").is_some_and(Value::is_string) || map.contains_key("fileId") =>
        {
            let mut out = Map::new();
            for key in ["fileId", "url", "alt"] {
                if let Some(v) = map.get(key).filter(|v| !v.is_null()) {
                    out.insert(key.to_string(), v.clone());
                }
            }
            Some(Value::Object(out))
        }
        Value::String(s) if s.starts_with("http://") || s.starts_with("https://") => {
            Some(url_alt(s.clone(), None))
        }
        other => {
            w.push(WarningKind::Unconvertible {
                target: target.field_type.to_string(),
                found: shape(other).to_string(),
                value: excerpt(other),
            });
            None
        }
    }
}

fn url_alt(url: String, alt: Option<String>) -> Value {
    match alt {
        Some(alt) => json!({"url": url, "alt": alt}),
        None => json!({ "url": url }),
    }
}
