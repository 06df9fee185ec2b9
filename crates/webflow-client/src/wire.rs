//! The shapes on the wire: item paths, id lists, the bulk limit, multi-item answers.

use serde_json::{Value, json};

use crate::{Error, Item, MAX_ITEMS_PER_CALL, Target};

pub(crate) fn items_path(collection_id: &str, target: Target) -> Vec<&str> {
    match target {
        Target::Staged => vec!["collections", collection_id, "items"],
        Target::Live => vec!["collections", collection_id, "items", "live"],
    }
}

pub(crate) fn item_path<'a>(
    collection_id: &'a str,
    item_id: &'a str,
    target: Target,
) -> Vec<&'a str> {
    let mut path = vec!["collections", collection_id, "items", item_id];
    if target == Target::Live {
        path.push("live");
    }
    path
}

pub(crate) fn id_list(ids: &[String]) -> Value {
    json!({ "items": ids.iter().map(|id| json!({ "id": id })).collect::<Vec<_>>() })
}

pub(crate) fn check_batch(len: usize) -> Result<(), Error> {
    if len == 0 || len > MAX_ITEMS_PER_CALL {
        return Err(Error::Validation {
            status: None,
            code: None,
            message: format!("a bulk call takes 1 to {MAX_ITEMS_PER_CALL} items, not {len}"),
            details: Vec::new(),
        });
    }
    Ok(())
}

/// A multi-item answer is `{"items": […]}`; accept a single item too.
pub(crate) fn items_of(value: Value) -> Result<Vec<Item>, Error> {
    let parsed = match value {
        Value::Object(mut map) if map.get("items").is_some_and(Value::is_array) => {
            serde_json::from_value(map.remove("items").unwrap_or_default())
        }
        Value::Array(items) => serde_json::from_value(Value::Array(items)),
        other => serde_json::from_value(other).map(|item: Item| vec![item]),
    };
    parsed.map_err(|e| Error::Permanent {
        status: None,
        code: None,
        message: format!("unexpected answer from Webflow: {e}"),
    })
}
