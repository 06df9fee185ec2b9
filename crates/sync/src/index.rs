//! A Webflow collection read page by page (100 items a call) and indexed by slug and by a
//! match field, so that matching many records costs one read of the collection instead of a
//! lookup per record. Kept current afterwards by reading only what changed since
//! (`lastUpdated[gte]`).

use std::collections::HashMap;

use suiteflow_mapper::match_text;
use suiteflow_webflow_client::{Item, ListItems, WebflowClient};
use time::OffsetDateTime;

use crate::budget::WebflowBudget;
use crate::failure::Failure;
use crate::write::BULK_LIMIT;

/// Room for the difference between PostgreSQL's clock and Webflow's when reading what changed
/// since the last read.
const CLOCK_MARGIN: time::Duration = time::Duration::minutes(2);
/// How long a full read is trusted: reading what changed does not see items deleted in
/// Webflow, so the whole collection is read again this often.
const FULL_READ_LIFETIME: time::Duration = time::Duration::hours(1);

/// The items of a collection, by id, by slug and by the text of one field.
pub struct CollectionIndex {
    /// The Webflow field matched on, when there is one.
    field: Option<String>,
    items: HashMap<String, Item>,
    by_slug: HashMap<String, String>,
    by_key: HashMap<String, String>,
    read_at: OffsetDateTime,
    fully_read_at: OffsetDateTime,
}

impl CollectionIndex {
    /// Reads the whole collection (staged items), indexing `field` when given.
    pub async fn read(
        budget: &WebflowBudget<'_>,
        webflow: &WebflowClient,
        collection_id: &str,
        field: Option<&str>,
    ) -> Result<Self, Failure> {
        let mut index = Self {
            field: field.map(str::to_owned),
            items: HashMap::new(),
            by_slug: HashMap::new(),
            by_key: HashMap::new(),
            read_at: OffsetDateTime::now_utc(),
            fully_read_at: OffsetDateTime::now_utc(),
        };
        index
            .read_since(budget, webflow, collection_id, None)
            .await?;
        Ok(index)
    }

    /// Whether the whole collection should be read again (see [`FULL_READ_LIFETIME`]).
    pub fn is_stale(&self) -> bool {
        OffsetDateTime::now_utc() - self.fully_read_at > FULL_READ_LIFETIME
    }

    /// Forgets an item found gone (deleted in Webflow since it was read).
    pub fn forget(&mut self, item_id: &str) {
        if let Some(item) = self.items.remove(item_id) {
            if let Some(slug) = item.slug() {
                self.by_slug.remove(slug);
            }
            if let Some(key) = self.key_of(&item) {
                self.by_key.remove(&key);
            }
        }
    }

    /// Reads the items changed or created since the last read (usually one call).
    pub async fn refresh(
        &mut self,
        budget: &WebflowBudget<'_>,
        webflow: &WebflowClient,
        collection_id: &str,
    ) -> Result<(), Failure> {
        let since = self.read_at - CLOCK_MARGIN;
        self.read_since(budget, webflow, collection_id, Some(since))
            .await
    }

    async fn read_since(
        &mut self,
        budget: &WebflowBudget<'_>,
        webflow: &WebflowClient,
        collection_id: &str,
        since: Option<OffsetDateTime>,
    ) -> Result<(), Failure> {
        let started = OffsetDateTime::now_utc();
        let mut query = ListItems {
            limit: Some(BULK_LIMIT as u32),
            updated_since: since,
            ..ListItems::default()
        };
        loop {
            let page = budget
                .call(webflow.list_items(collection_id, &query))
                .await?;
            let got = page.items.len() as u32;
            for item in page.items {
                self.insert(item);
            }
            query.offset += got;
            if got == 0 || query.offset >= page.pagination.total {
                break;
            }
        }
        self.read_at = started;
        Ok(())
    }

    fn insert(&mut self, item: Item) {
        if let Some(old) = self.items.get(&item.id) {
            // An edited item: forget what it held before.
            if let Some(slug) = old.slug() {
                self.by_slug.remove(slug);
            }
            if let Some(key) = self.key_of(old) {
                self.by_key.remove(&key);
            }
        }
        if let Some(slug) = item.slug() {
            self.by_slug.insert(slug.to_owned(), item.id.clone());
        }
        if let Some(key) = self.key_of(&item) {
            self.by_key.insert(key, item.id.clone());
        }
        self.items.insert(item.id.clone(), item);
    }

    fn key_of(&self, item: &Item) -> Option<String> {
        let field = self.field.as_deref()?;
        item.field_data.get(field).and_then(match_text)
    }

    /// The item with this slug.
    pub fn by_slug(&self, slug: &str) -> Option<&Item> {
        self.by_slug.get(slug).and_then(|id| self.items.get(id))
    }

    /// The item whose match field holds `key`.
    pub fn by_key(&self, key: &str) -> Option<&Item> {
        self.by_key.get(key).and_then(|id| self.items.get(id))
    }

    /// Every item read.
    pub fn items(&self) -> impl Iterator<Item = &Item> {
        self.items.values()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Whether `item` already holds what `mapped` would write: the same flags, every mapped field
/// with the same value (numbers compared as numbers, a missing field as null; fields the
/// mapping does not write are ignored, and so are extra keys Webflow adds to an object, such
/// as an image's `fileId`), and, for a record the site shows, its staged content published:
/// an item edited since its last publish (or never published) is written again, live.
pub fn holds(item: &Item, mapped: &suiteflow_mapper::MappedItem) -> bool {
    let shown = !mapped.status.is_draft && !mapped.status.is_archived;
    (!shown || is_published_and_current(item))
        && item.is_draft == mapped.status.is_draft
        && item.is_archived == mapped.status.is_archived
        && mapped.field_data.iter().all(|(key, value)| {
            same(
                value,
                item.field_data.get(key).unwrap_or(&serde_json::Value::Null),
            )
        })
}

/// Whether the item's live copy is its staged one: published, and not updated since.
fn is_published_and_current(item: &Item) -> bool {
    let at = |text: &Option<String>| {
        text.as_deref().and_then(|t| {
            OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        })
    };
    match (at(&item.last_published), at(&item.last_updated)) {
        (Some(published), Some(updated)) => published >= updated,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

fn same(mapped: &serde_json::Value, held: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (mapped, held) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b))
        }
        (Value::Object(a), Value::Object(b)) => a
            .iter()
            .all(|(k, v)| same(v, b.get(k).unwrap_or(&Value::Null))),
        (a, b) => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(field_data: serde_json::Value, is_draft: bool) -> Item {
        serde_json::from_value(json!({
            "id": "i1", "isDraft": is_draft, "isArchived": false, "fieldData": field_data,
            "lastUpdated": "2026-11-01T10:00:00.000Z", "lastPublished": "2026-11-01T10:00:01.000Z",
        }))
        .unwrap()
    }

    fn mapped(field_data: serde_json::Value) -> suiteflow_mapper::MappedItem {
        suiteflow_mapper::MappedItem {
            field_data: field_data.as_object().cloned().unwrap_or_default(),
            slug: suiteflow_mapper::Slug::new("chair").unwrap(),
            status: Default::default(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn an_item_holds_a_record_when_every_mapped_field_is_the_same() {
        let held = item(
            json!({"name": "Chair", "slug": "chair", "price": 12.0, "sku": "C-1",
                   "image": {"fileId": "f", "url": "https://cdn/x.png", "alt": null}, "other": 1}),
            false,
        );
        let same_content = mapped(json!({"name": "Chair", "slug": "chair", "price": 12,
            "image": {"url": "https://cdn/x.png", "alt": null}, "missing": null}));
        assert!(holds(&held, &same_content));
        assert!(!holds(
            &held,
            &mapped(json!({"name": "Chair", "price": 13}))
        ));
        assert!(!holds(&held, &mapped(json!({"sku": "C-2"}))));
        let draft = item(json!({"name": "Chair"}), true);
        assert!(
            !holds(&draft, &mapped(json!({"name": "Chair"}))),
            "a draft item does not hold a live record"
        );
    }

    #[test]
    fn an_item_whose_staged_content_is_not_live_does_not_hold_a_live_record() {
        let record = mapped(json!({"name": "Chair"}));
        let mut edited = item(json!({"name": "Chair"}), false);
        edited.last_updated = Some("2026-11-02T09:00:00.000Z".into());
        assert!(!holds(&edited, &record), "edited since its last publish");
        let mut never = item(json!({"name": "Chair"}), false);
        never.last_published = None;
        assert!(!holds(&never, &record), "never published");
        assert!(holds(&item(json!({"name": "Chair"}), false), &record));
        // A draft record needs no live copy.
        let mut draft_record = mapped(json!({"name": "Chair"}));
        draft_record.status.is_draft = true;
        let mut staged = item(json!({"name": "Chair"}), true);
        staged.last_published = None;
        assert!(holds(&staged, &draft_record));
    }
}
