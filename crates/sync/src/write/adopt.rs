//! Adopt: resolving a create whose outcome is unknown. Webflow creates are not idempotent, so
//! before a create the id map records the intent and the slug; when the answer was lost, the
//! slug tells whether Webflow made the item, and a found item is adopted instead of created
//! again. A create Webflow applies late (after the lookup missed it) is caught when the retried
//! create meets its own slug.

use std::collections::{HashMap, HashSet};

use suiteflow_store::id_map::{self, IdMapEntry};
use suiteflow_webflow_client::{Item, ListItems};
use time::OffsetDateTime;

use super::plan::{Plan, Unknown, Update};
use super::{BULK_LIMIT, Batch, Write};
use crate::failure::Failure;

/// How long before an unknown create's recorded intent its item is looked for: room for the
/// difference between PostgreSQL's clock and Webflow's, and for a create Webflow applied late.
const CREATED_ON_MARGIN: time::Duration = time::Duration::minutes(10);

impl<'a> Batch<'a> {
    /// Looks up the slugs of the unknown creates: a found item becomes an update (adopted), a
    /// missing one a create that remembers its earlier attempt.
    pub(super) async fn adopt(
        &mut self,
        unknown: Vec<Unknown<'a>>,
        entries: &HashMap<String, IdMapEntry>,
        plan: &mut Plan<'a>,
    ) {
        // The slug each earlier create used tells whether Webflow made the item; it was made,
        // if at all, after the earliest of those creates recorded its intent.
        let intent_at = |w: &Write<'_>| entries.get(&w.event.external_id).map(|e| e.updated_at);
        let slugs: Vec<String> = unknown.iter().map(|u| u.slug.clone()).collect();
        let since = unknown
            .iter()
            .filter_map(|u| intent_at(&u.write))
            .min()
            .map(|t| t - CREATED_ON_MARGIN);
        let found = match self.find_by_slugs(&slugs, since).await {
            Ok(found) => found,
            Err(f) => {
                self.fail_all(unknown.iter().map(|u| u.write.event.id), &f);
                return;
            }
        };
        // Who holds the found items, or names their slugs: read once for all of them.
        let owners = match self.owners(found.values()).await {
            Ok(owners) => owners,
            Err(f) => {
                self.fail_all(unknown.iter().map(|u| u.write.event.id), &f);
                return;
            }
        };
        for Unknown { mut write, slug } in unknown {
            // An item with the slug that belongs to another record is not this create's.
            let item = found
                .get(&slug)
                .filter(|item| !owners.elsewhere(&write, item));
            match item {
                Some(item) => {
                    tracing::info!(connection_id = %self.ctx.id().0, event_id = %write.event.id.0, "adopted the item an earlier create made");
                    plan.updates.push(Update {
                        write,
                        item_id: item.id.clone(),
                        old_slug: Some(slug),
                    });
                }
                None => {
                    let at = intent_at(&write).unwrap_or_else(OffsetDateTime::now_utc);
                    write.earlier_create = Some((slug, at));
                    plan.creates.push(write);
                }
            }
        }
    }

    /// The items holding `slugs`, by slug, among the items created since `since` (all items
    /// when `None`). One slug is
    /// looked up alone; for more, the items created since then are listed page by page (100
    /// per call; usually one page, as `since` is minutes ago) for as long as that costs fewer
    /// calls than the lookups left, which matters under Webflow's per-minute limit after a
    /// failed bulk create left a whole batch unknown.
    pub(super) async fn find_by_slugs(
        &mut self,
        slugs: &[String],
        since: Option<OffsetDateTime>,
    ) -> Result<HashMap<String, Item>, Failure> {
        let mut found = HashMap::new();
        if slugs.len() > 1 {
            let wanted: HashSet<&str> = slugs.iter().map(String::as_str).collect();
            let mut query = ListItems {
                limit: Some(BULK_LIMIT as u32),
                created_since: since,
                ..Default::default()
            };
            loop {
                let page = self
                    .budget
                    .call(
                        self.ctx
                            .webflow
                            .list_items(self.ctx.collection_id(), &query),
                    )
                    .await?;
                for item in page.items.iter() {
                    if let Some(slug) = item.slug().filter(|s| wanted.contains(s)) {
                        found.insert(slug.to_string(), item.clone());
                    }
                }
                let got = page.items.len() as u32;
                query.offset += got;
                if got == 0 || query.offset >= page.pagination.total {
                    // The whole collection was seen: what is not found does not exist.
                    return Ok(found);
                }
                let pages_left = (page.pagination.total - query.offset).div_ceil(BULK_LIMIT as u32);
                let missing = slugs.len() - found.len();
                if missing == 0 {
                    return Ok(found);
                }
                if pages_left as usize > missing {
                    break;
                }
            }
        }
        for slug in slugs {
            if !found.contains_key(slug)
                && let Some(item) = self.find_by_slug(slug).await?
            {
                found.insert(slug.clone(), item);
            }
        }
        Ok(found)
    }

    pub(super) async fn find_by_slug(&mut self, slug: &str) -> Result<Option<Item>, Failure> {
        self.budget
            .call(
                self.ctx
                    .webflow
                    .find_item_by_slug(self.ctx.collection_id(), slug),
            )
            .await
    }

    /// The item holding `slug`, when it is the late result of this record's earlier create of
    /// unknown outcome (Webflow applied it after the lookup that did not find it): that create
    /// used `slug`, the item was created after its intent (less the clock margin), and no other
    /// record's entry holds `slug`. Otherwise `None`: the slug is another item's, so the caller
    /// tries the next suffix.
    pub(super) async fn late_create(
        &mut self,
        w: &Write<'a>,
        slug: &str,
    ) -> Result<Option<String>, Failure> {
        let Some((earlier_slug, intent_at)) = &w.earlier_create else {
            return Ok(None);
        };
        if earlier_slug != slug {
            return Ok(None);
        }
        let others = {
            let mut conn = self.store.get().await?;
            id_map::others_with_slug(&mut conn, w.key(), slug).await?
        };
        if !others.is_empty() {
            return Ok(None);
        }
        let Some(item) = self.find_by_slug(slug).await? else {
            return Ok(None);
        };
        let created = item.created_on.as_deref().and_then(|text| {
            OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
        });
        Ok(created
            .is_some_and(|c| c >= *intent_at - CREATED_ON_MARGIN)
            .then_some(item.id))
    }
}
