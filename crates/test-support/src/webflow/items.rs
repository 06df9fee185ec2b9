//! Writes to the Webflow stand-in's items: create (single, batch and bulk), update, remove or
//! unpublish, and publish.

use serde_json::{Map, Value, json};

use super::routes::{answer, detail, not_found, out_of, validation};
use super::state::{CollectionRec, ItemRec, State, new_id, now};
use super::validation::{check_batch, check_field_data, check_top_level, duplicate_slug};
use crate::server::Outgoing;

pub(super) fn create(
    state: &mut State,
    c: &str,
    entries: &[Value],
    live: bool,
) -> Result<Vec<Value>, Value> {
    check_batch(entries.len())?;
    let collection = state
        .collections
        .iter()
        .find(|x| x.id == c)
        .cloned()
        .ok_or_else(|| {
            answer(
                404,
                "resource_not_found",
                "Requested resource not found: collection",
            )
        })?;
    let existing: Vec<String> = state
        .items
        .get(c)
        .map(|v| {
            v.iter()
                .filter_map(|i| i.slug().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut new_slugs: Vec<String> = Vec::new();
    let mut prepared = Vec::new();
    for entry in entries {
        check_top_level(
            entry,
            &["isDraft", "isArchived", "cmsLocaleId", "fieldData"],
        )
        .map_err(Value::Array)?;
        let mut data = check_field_data(
            &collection,
            entry.get("fieldData").unwrap_or(&Value::Null),
            true,
        )
        .map_err(Value::Array)?;
        drop_unfetchable(&state.config.unfetchable_files, &collection, &mut data);
        let slug = data
            .get("slug")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if existing.contains(&slug) || new_slugs.contains(&slug) {
            return Err(duplicate_slug(&slug));
        }
        new_slugs.push(slug);
        if let Some(locale) = entry.get("cmsLocaleId")
            && locale.as_str() != Some(&state.cms_locale_id)
            && locale.as_str() != Some(&state.secondary_cms_locale_id)
        {
            return Err(json!([detail("cmsLocaleId", "Unknown cmsLocaleId")]));
        }
        prepared.push((entry, data));
    }
    let stamp = now();
    let mut out = Vec::new();
    for (entry, data) in prepared {
        let item = ItemRec {
            id: new_id(),
            cms_locale_id: entry
                .get("cmsLocaleId")
                .and_then(Value::as_str)
                .map_or_else(|| state.cms_locale_id.clone(), str::to_owned),
            created_on: stamp.clone(),
            last_updated: stamp.clone(),
            last_published: live.then(|| stamp.clone()),
            is_archived: entry
                .get("isArchived")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            is_draft: if live {
                false
            } else {
                entry
                    .get("isDraft")
                    .and_then(Value::as_bool)
                    .unwrap_or(true)
            },
            live: live.then(|| data.clone()),
            staged: data,
        };
        out.push(item.json(false));
        state.items.entry(c.to_owned()).or_default().push(item);
    }
    Ok(out)
}

pub(super) fn bulk_create(state: &mut State, c: &str, body: &Value) -> Outgoing {
    if let Err(problems) = check_top_level(
        body,
        &["cmsLocaleIds", "isDraft", "isArchived", "fieldData"],
    ) {
        return validation(problems);
    }
    let datas: Vec<Value> = match body.get("fieldData") {
        Some(Value::Array(list)) => list.clone(),
        Some(obj @ Value::Object(_)) => vec![obj.clone()],
        _ => return validation(vec![detail("fieldData", "fieldData is required")]),
    };
    if let Some(locales) = body.get("cmsLocaleIds") {
        let known = [
            state.cms_locale_id.clone(),
            state.secondary_cms_locale_id.clone(),
        ];
        let ok = locales.as_array().is_some_and(|l| {
            l.iter()
                .all(|x| x.as_str().is_some_and(|s| known.iter().any(|k| k == s)))
        });
        if !ok {
            return validation(vec![detail("cmsLocaleIds", "Unknown cmsLocaleId")]);
        }
    }
    let mut entries = Vec::new();
    for data in datas {
        let mut entry = json!({"fieldData": data});
        for key in ["isDraft", "isArchived"] {
            if let Some(v) = body.get(key) {
                entry[key] = v.clone();
            }
        }
        entries.push(entry);
    }
    match create(state, c, &entries, false) {
        Ok(items) => Outgoing::json(202, &json!({"items": items})),
        Err(out) => out_of(out),
    }
}

pub(super) fn update(
    state: &mut State,
    c: &str,
    entries: &[Value],
    live: bool,
) -> Result<Vec<Value>, Value> {
    check_batch(entries.len())?;
    let collection = state
        .collections
        .iter()
        .find(|x| x.id == c)
        .cloned()
        .ok_or_else(|| {
            answer(
                404,
                "resource_not_found",
                "Requested resource not found: collection",
            )
        })?;
    let reject_own_slug = state.config.reject_unchanged_slug_in_patch;
    let unfetchable = state.config.unfetchable_files.clone();
    let items = state.items.entry(c.to_owned()).or_default();
    let mut plans = Vec::new();
    for entry in entries {
        check_top_level(
            entry,
            &["id", "isDraft", "isArchived", "cmsLocaleId", "fieldData"],
        )
        .map_err(Value::Array)?;
        let Some(id) = entry.get("id").and_then(Value::as_str) else {
            return Err(json!([detail("id", "must have required property 'id'")]));
        };
        let Some(index) = items.iter().position(|i| i.id == id) else {
            return Err(answer(
                404,
                "resource_not_found",
                &format!("Requested resource not found: item {id}"),
            ));
        };
        let mut changes = check_field_data(
            &collection,
            entry.get("fieldData").unwrap_or(&json!({})),
            false,
        )
        .map_err(Value::Array)?;
        drop_unfetchable(&unfetchable, &collection, &mut changes);
        if let Some(slug) = changes.get("slug") {
            let Some(slug) = slug.as_str().filter(|s| !s.is_empty()) else {
                return Err(json!([detail("slug", "Field is required")]));
            };
            let taken = items
                .iter()
                .any(|other| other.slug() == Some(slug) && (other.id != id || reject_own_slug));
            if taken
                || plans
                    .iter()
                    .any(|(_, _, ch): &(usize, &Value, Map<String, Value>)| {
                        ch.get("slug").and_then(Value::as_str) == Some(slug)
                    })
            {
                return Err(duplicate_slug(slug));
            }
        }
        for (key, value) in &changes {
            let field = collection.fields.iter().find(|f| f.slug == *key);
            if field.is_some_and(|f| f.required)
                && (value.is_null() || value.as_str().is_some_and(|s| s.trim().is_empty()))
            {
                return Err(json!([detail(key, "Field is required")]));
            }
        }
        if live && items[index].last_published.is_none() {
            return Err(answer(
                409,
                "conflict",
                "Live PATCH updates can't be applied to items that have never been published",
            ));
        }
        plans.push((index, entry, changes));
    }
    let stamp = now();
    let mut out = Vec::new();
    for (index, entry, changes) in plans {
        let item = &mut items[index];
        for (key, value) in changes {
            item.staged.insert(key, value);
        }
        if let Some(v) = entry.get("isArchived").and_then(Value::as_bool) {
            item.is_archived = v;
        }
        if let Some(v) = entry.get("isDraft").and_then(Value::as_bool) {
            // Since 2025 isDraft no longer unpublishes a live item.
            item.is_draft = v;
        }
        item.last_updated = stamp.clone();
        if live {
            item.live = Some(item.staged.clone());
            item.last_published = Some(stamp.clone());
            item.is_draft = false;
        }
        out.push(item.json(live));
    }
    Ok(out)
}

pub(super) fn remove(state: &mut State, c: &str, ids: &[String], unpublish: bool) -> Outgoing {
    if let Err(problems) = check_batch(ids.len()) {
        return out_of(problems);
    }
    let items = state.items.entry(c.to_owned()).or_default();
    let left_behind = state.live_only.entry(c.to_owned()).or_default();
    let known = |id: &String| {
        items.iter().any(|i| &i.id == id) || (unpublish && left_behind.iter().any(|i| &i.id == id))
    };
    if let Some(missing) = ids.iter().find(|id| !known(id)) {
        return not_found(&format!("item {missing}"));
    }
    if unpublish {
        for item in items.iter_mut().filter(|i| ids.contains(&i.id)) {
            item.live = None;
            item.last_published = None;
            item.is_draft = true;
        }
        left_behind.retain(|i| !ids.contains(&i.id));
    } else {
        // Deleting the staged item leaves a published item's live copy on the site.
        let (gone, kept): (Vec<ItemRec>, Vec<ItemRec>) =
            items.drain(..).partition(|i| ids.contains(&i.id));
        *items = kept;
        left_behind.extend(gone.into_iter().filter(|i| i.live.is_some()));
    }
    Outgoing::empty(204)
}

pub(super) fn publish(state: &mut State, c: &str, body: &Value) -> Outgoing {
    let ids: Vec<String> = match (body.get("itemIds"), body.get("items")) {
        (Some(Value::Array(ids)), None) if ids.iter().all(Value::is_string) => ids
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        (None, Some(Value::Array(items)))
            if items
                .iter()
                .all(|i| i.get("id").is_some_and(Value::is_string)) =>
        {
            items
                .iter()
                .filter_map(|i| i.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect()
        }
        _ => {
            return validation(vec![detail(
                "itemIds",
                "itemIds must be an array of item ids (or items with ids)",
            )]);
        }
    };
    if let Err(problems) = check_batch(ids.len()) {
        return out_of(problems);
    }
    let stamp = now();
    let items = state.items.entry(c.to_owned()).or_default();
    let mut published = Vec::new();
    let mut errors = Vec::new();
    for id in ids {
        match items.iter_mut().find(|i| i.id == id) {
            Some(item) => {
                item.live = Some(item.staged.clone());
                item.last_published = Some(stamp.clone());
                item.is_draft = false;
                published.push(id);
            }
            None => errors.push(json!(format!("Staging item ID {id} not found."))),
        }
    }
    Outgoing::json(
        202,
        &json!({"publishedItemIds": published, "errors": errors}),
    )
}

/// Drops the files Webflow could not fetch from `data` (a single file becomes null, a list
/// loses them), as `skipInvalidFiles` does: silently.
fn drop_unfetchable(
    unfetchable: &[String],
    collection: &CollectionRec,
    data: &mut Map<String, Value>,
) {
    let refused = |file: &Value| {
        file.get("url").and_then(Value::as_str).is_some_and(|url| {
            unfetchable
                .iter()
                .any(|prefix| url.starts_with(prefix.as_str()))
        })
    };
    for field in &collection.fields {
        let Some(value) = data.get_mut(&field.slug) else {
            continue;
        };
        match field.field_type.as_str() {
            "Image" | "File" if refused(value) => *value = Value::Null,
            "MultiImage" => {
                if let Some(files) = value.as_array_mut() {
                    files.retain(|f| !refused(f));
                }
            }
            _ => {}
        }
    }
}
