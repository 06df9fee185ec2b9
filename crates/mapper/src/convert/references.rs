//! Ids headed for Reference / MultiReference fields, resolved to Webflow item ids.

use std::borrow::Cow;

use serde_json::Value;

use super::as_list;
use crate::resolve::Resolvers;
use crate::warning::WarningKind;

/// How ids headed for Reference / MultiReference fields are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ids<'a> {
    /// SmartSuite record ids, resolved through the linked-record resolver.
    Resolve(Option<&'a str>),
    /// Already Webflow item ids (constants).
    Literal,
}

pub(super) fn id_list(value: &Value) -> Vec<Cow<'_, str>> {
    as_list(value)
        .iter()
        .filter_map(|v| match v {
            Value::String(s) => Some(Cow::Borrowed(s.trim())),
            Value::Object(map) => map
                .get("id")
                .and_then(Value::as_str)
                .map(|s| Cow::Borrowed(s.trim())),
            Value::Number(n) => Some(Cow::Owned(n.to_string())),
            _ => None,
        })
        .filter(|s| !s.is_empty())
        .collect()
}

pub(super) fn resolve_id(
    id: &str,
    ids: Ids<'_>,
    ctx: &dyn Resolvers,
    w: &mut Vec<WarningKind>,
) -> Option<String> {
    match ids {
        Ids::Literal => Some(id.to_string()),
        Ids::Resolve(connection) => {
            let found = ctx.webflow_item_id(connection, id);
            if found.is_none() {
                w.push(WarningKind::UnresolvedRecord { id: id.to_string() });
            }
            found
        }
    }
}
