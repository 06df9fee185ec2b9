//! Checks of the Webflow stand-in's writes: batch sizes, `fieldData` against the collection's
//! schema, the top-level keys of an item, and the duplicate-slug error.

use serde_json::{Map, Value, json};

use super::routes::detail;
use super::state::CollectionRec;

pub(super) fn check_batch(len: usize) -> Result<(), Value> {
    if len == 0 {
        return Err(json!([detail("items", "At least one item is required")]));
    }
    if len > 100 {
        return Err(json!([detail(
            "items",
            &format!("Maximum of 100 items per request, got {len}")
        )]));
    }
    Ok(())
}

/// Checks `fieldData` against the schema: known slugs, value types, option ids and (on
/// create) required fields.
pub(super) fn check_field_data(
    collection: &CollectionRec,
    data: &Value,
    create: bool,
) -> Result<Map<String, Value>, Vec<Value>> {
    let Some(map) = data.as_object() else {
        return Err(vec![detail("fieldData", "fieldData must be an object")]);
    };
    let mut problems = Vec::new();
    for (key, value) in map {
        let Some(field) = collection.fields.iter().find(|f| f.slug == *key) else {
            problems.push(detail(key, "Field not described in schema"));
            continue;
        };
        if value.is_null() {
            continue;
        }
        let ok = match field.field_type.as_str() {
            "PlainText" | "RichText" | "Link" | "Email" | "Phone" | "Color" | "VideoLink"
            | "DateTime" | "Reference" => value.is_string(),
            "Number" => value.is_number(),
            "Switch" => value.is_boolean(),
            "Option" => {
                let ok = value
                    .as_str()
                    .is_some_and(|v| field.options.iter().any(|(id, _)| id == v));
                if !ok {
                    problems.push(detail(key, &format!("Invalid option id: {value}")));
                    continue;
                }
                true
            }
            "MultiReference" => value
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string)),
            "Image" | "File" => value
                .get("url")
                .or_else(|| value.get("fileId"))
                .is_some_and(Value::is_string),
            "MultiImage" => value.as_array().is_some_and(|a| {
                a.iter().all(|v| {
                    v.get("url")
                        .or_else(|| v.get("fileId"))
                        .is_some_and(Value::is_string)
                })
            }),
            _ => true,
        };
        if !ok {
            problems.push(detail(
                key,
                &format!("Value has the wrong type for a {} field", field.field_type),
            ));
        }
    }
    if create {
        for field in collection.fields.iter().filter(|f| f.required) {
            let present = match map.get(&field.slug) {
                None | Some(Value::Null) => false,
                Some(Value::String(s)) => !s.trim().is_empty(),
                Some(_) => true,
            };
            if !present {
                problems.push(detail(&field.slug, "Field is required"));
            }
        }
    }
    if problems.is_empty() {
        Ok(map.clone())
    } else {
        Err(problems)
    }
}

pub(super) fn check_top_level(entry: &Value, allowed: &[&str]) -> Result<(), Vec<Value>> {
    let Some(map) = entry.as_object() else {
        return Err(vec![detail("items", "each item must be an object")]);
    };
    let mut problems = Vec::new();
    for (key, value) in map {
        if !allowed.contains(&key.as_str()) {
            problems.push(detail(key, "Field not described in schema"));
        }
        if matches!(key.as_str(), "isDraft" | "isArchived") && !value.is_boolean() {
            problems.push(detail(key, "must be a boolean"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

pub(super) fn duplicate_slug(slug: &str) -> Value {
    json!([detail(
        "slug",
        &format!("Unique value is already in database: '{slug}'")
    )])
}
