//! Minimal typed views of the two schemas the mapper reads: a SmartSuite table structure
//! ([`smartsuite::Table`]) and a Webflow collection ([`webflow::Collection`]).
//!
//! Both deserialise straight from the APIs' JSON (`GET /applications/{id}/` and
//! `GET /collections/{id}`), keep their fields public so the HTTP clients can reuse them, and
//! tolerate what they do not know: unknown keys are ignored and unknown field types are kept as
//! `Unknown(String)`, never rejected.

pub mod smartsuite;
pub mod webflow;

use serde::{Deserialize, Deserializer};

/// Deserialises `null` (or a missing key, with `#[serde(default)]`) as `T::default()`.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Deserialises a string, a number or a boolean as a `String`; `null` as an empty string.
pub(crate) fn lenient_string<'de, D>(deserializer: D) -> Result<String, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(s) => s,
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    })
}
