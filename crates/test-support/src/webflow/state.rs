//! What the Webflow stand-in holds: the site's collections with their fields, and the staged
//! and live versions of their items.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::{Map, Value, json};

use super::WebflowConfig;

#[derive(Debug, Clone)]
pub(super) struct FieldRec {
    pub(super) id: String,
    pub(super) slug: String,
    pub(super) display_name: String,
    pub(super) field_type: String,
    pub(super) required: bool,
    pub(super) options: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub(super) struct CollectionRec {
    pub(super) id: String,
    pub(super) site_id: String,
    pub(super) display_name: String,
    pub(super) slug: String,
    pub(super) created_on: String,
    pub(super) fields: Vec<FieldRec>,
}

#[derive(Debug, Clone)]
pub(super) struct ItemRec {
    pub(super) id: String,
    pub(super) cms_locale_id: String,
    pub(super) created_on: String,
    pub(super) last_updated: String,
    pub(super) last_published: Option<String>,
    pub(super) is_archived: bool,
    pub(super) is_draft: bool,
    pub(super) staged: Map<String, Value>,
    pub(super) live: Option<Map<String, Value>>,
}

impl ItemRec {
    pub(super) fn json(&self, live: bool) -> Value {
        let data = if live {
            self.live.clone().unwrap_or_default()
        } else {
            self.staged.clone()
        };
        json!({
            "id": self.id, "cmsLocaleId": self.cms_locale_id, "lastPublished": self.last_published,
            "lastUpdated": self.last_updated, "createdOn": self.created_on,
            "isArchived": self.is_archived, "isDraft": self.is_draft, "fieldData": data,
        })
    }

    pub(super) fn slug(&self) -> Option<&str> {
        self.staged.get("slug").and_then(Value::as_str)
    }
}

pub(super) struct State {
    pub(super) config: WebflowConfig,
    pub(super) site_id: String,
    pub(super) cms_locale_id: String,
    pub(super) secondary_cms_locale_id: String,
    pub(super) collections: Vec<CollectionRec>,
    pub(super) items: HashMap<String, Vec<ItemRec>>,
    /// Live copies whose staged item was deleted: Webflow keeps serving them until they are
    /// unpublished (`DELETE …/items/{id}/live`) or the site is published again.
    pub(super) live_only: HashMap<String, Vec<ItemRec>>,
    pub(super) windows: HashMap<String, (Instant, u32)>,
    /// Tokens refused with 429 until then, whatever their window holds.
    pub(super) blocked: HashMap<String, Instant>,
}

pub(super) fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..24].to_owned()
}

pub(super) fn parse_time(text: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// Webflow's timestamps: UTC, to the millisecond.
pub(super) const STAMP: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
);

pub(super) fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&STAMP)
        .unwrap_or_default()
}

impl State {
    /// The collection's items that have a live version: published items, and live copies left
    /// behind by a staged delete.
    pub(super) fn live_items(&self, c: &str) -> impl Iterator<Item = &ItemRec> {
        let published = self.items.get(c).into_iter().flatten();
        let left_behind = self.live_only.get(c).into_iter().flatten();
        published.chain(left_behind).filter(|i| i.live.is_some())
    }
}
