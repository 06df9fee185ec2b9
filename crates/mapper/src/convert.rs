//! Value conversion: SmartSuite value shapes to Webflow `fieldData` values.
//!
//! Two steps. [`normalize()`] reads a value by its SmartSuite field type (when the mapping reads
//! a field directly): ids become labels, number strings numbers, dates ISO-8601, rich text its
//! HTML, arrays of emails their first value, and so on. Then transforms run, and [`coerce()`]
//! shapes the result for the Webflow field type, resolving files and linked records through
//! the caller's resolvers. Anything that cannot be converted is a
//! [`WarningKind`](crate::warning::WarningKind), and the field is left out.
//!
//! One file per concern: `normalize` (the SmartSuite side), `coerce` (the Webflow side),
//! `references` (linked records to Webflow item ids) and `files` (file handles to URLs).

mod coerce;
mod files;
mod normalize;
mod references;

use serde_json::Value;

pub(crate) use coerce::coerce;
pub(crate) use normalize::normalize;
pub(crate) use references::Ids;

fn as_list(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) => items,
        other => std::slice::from_ref(other),
    }
}
