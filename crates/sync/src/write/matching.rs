//! Matching: a record the id map does not know may already have its item in the collection (a
//! site built before the sync started). By the mapping's `match`, that item is adopted instead
//! of duplicated: the id map is written, and the item is updated only when it does not already
//! hold the record's content. An item another record holds, or whose slug another record's
//! entry names (that record's create may be in flight), is not taken: the record is created
//! (its slug then gets a suffix). A unique index on the id map keeps an item to one record
//! even if two adoptions race.
//!
//! - On a field (`{"on": "field"}`), the item whose field holds the record's key is looked up
//!   before creating, in the collection read once per context (100 items a call) and kept
//!   current with what changed since (one call per batch of new records).
//! - On the slug (the default), Webflow's own rule finds it at no cost: slugs are unique in a
//!   collection, so a create whose slug is taken is refused, and the item holding the slug is
//!   then looked up and adopted ([`Batch::adopt_slug_holder`]). A record with no item yet, the
//!   usual case, costs nothing more than its create.

use std::collections::HashSet;

use suiteflow_mapper::MatchOn;
use suiteflow_store::id_map::{self, IdMapEntry};
use suiteflow_webflow_client::Item;

use super::plan::{Plan, Update};
use super::{Batch, Write};
use crate::failure::Failure;
use crate::index::{CollectionIndex, holds};

impl<'a> Batch<'a> {
    /// Sorts records without an id map entry into adoptions (updates, or nothing to do) and
    /// creates.
    pub(super) async fn match_existing(&mut self, fresh: Vec<Write<'a>>, plan: &mut Plan<'a>) {
        let found = match self.find_existing(&fresh).await {
            Ok(found) => found,
            Err(f) => {
                self.fail_all(fresh.iter().map(|w| w.event.id), &f);
                return;
            }
        };
        for (w, item) in fresh.into_iter().zip(found) {
            let Some(item) = item else {
                plan.creates.push(w);
                continue;
            };
            tracing::info!(connection_id = %self.ctx.id().0, event_id = %w.event.id.0, item_id = %item.id, "adopting the item that already holds this record");
            if holds(&item, &w.item) {
                let outcome = self.synced(&w, &item.id, w.item.slug.as_str(), None).await;
                self.finish(w.event.id, outcome);
            } else {
                plan.updates.push(Update {
                    old_slug: item.slug().map(str::to_owned),
                    item_id: item.id,
                    write: w,
                });
            }
        }
    }

    /// For each write, the item it may adopt under `match: {on: field}`, held by no other
    /// record (`None` under the other rules: see the module's doc).
    async fn find_existing(&mut self, fresh: &[Write<'a>]) -> Result<Vec<Option<Item>>, Failure> {
        let field = match self.ctx.mapping.as_ref().map(|m| m.match_on()) {
            Some(MatchOn::Field(field)) => field,
            _ => return Ok(vec![None; fresh.len()]),
        };
        let mut guard = self.ctx.match_index.lock().await;
        match guard.as_mut() {
            Some(index) if !index.is_stale() => {
                index
                    .refresh(&self.budget, &self.ctx.webflow, self.ctx.collection_id())
                    .await?;
            }
            _ => {
                let read = CollectionIndex::read(
                    &self.budget,
                    &self.ctx.webflow,
                    self.ctx.collection_id(),
                    Some(field),
                );
                *guard = Some(read.await?);
            }
        }
        let Some(index) = guard.as_ref() else {
            return Ok(vec![None; fresh.len()]);
        };
        let candidates: Vec<Option<Item>> = fresh
            .iter()
            .map(|w| {
                w.match_key
                    .as_deref()
                    .and_then(|k| index.by_key(k))
                    .cloned()
            })
            .collect();
        drop(guard);
        let holders = self.holders(candidates.iter().flatten()).await?;
        // Two records of one batch never adopt the same item: the first does.
        let mut taken = HashSet::new();
        Ok(fresh
            .iter()
            .zip(candidates)
            .map(|(w, c)| {
                c.filter(|item| {
                    let held = holders.iter().any(|e| {
                        e.webflow_item_id.as_deref() == Some(&item.id) && !e.is_of(w.key())
                    });
                    !held && taken.insert(item.id.clone())
                })
            })
            .collect())
    }

    /// The id map entries holding any of `items`.
    async fn holders(
        &self,
        items: impl Iterator<Item = &Item>,
    ) -> Result<Vec<IdMapEntry>, Failure> {
        let ids: Vec<&str> = items.map(|i| i.id.as_str()).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.store.get().await?;
        Ok(id_map::holders(&mut conn, self.ctx.id(), &ids).await?)
    }

    /// The entries that hold `items` or name their slugs, for [`Owners::elsewhere`].
    pub(super) async fn owners(
        &self,
        items: impl Iterator<Item = &Item>,
    ) -> Result<Owners, Failure> {
        let items: Vec<&Item> = items.collect();
        if items.is_empty() {
            return Ok(Owners::default());
        }
        let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
        let slugs: Vec<&str> = items.iter().filter_map(|i| i.slug()).collect();
        let mut conn = self.store.get().await?;
        Ok(Owners {
            holders: id_map::holders(&mut conn, self.ctx.id(), &ids).await?,
            named: id_map::with_slugs(&mut conn, self.ctx.id(), &slugs).await?,
        })
    }
}

impl<'a> Batch<'a> {
    /// A create refused because `slug` is taken, under `match: {on: slug}`: the item holding
    /// it is this record's if no other record holds it. Adopted (updated when it does not hold
    /// the record's content), or `None` when the slug is another record's.
    pub(super) async fn adopt_slug_holder(
        &mut self,
        w: &Write<'a>,
        slug: &str,
        target: suiteflow_webflow_client::Target,
    ) -> Result<Option<crate::outcome::Outcome>, Failure> {
        if self.ctx.mapping.as_ref().map(|m| m.match_on()) != Some(MatchOn::Slug) {
            return Ok(None);
        }
        let Some(item) = self.find_by_slug(slug).await? else {
            return Ok(None);
        };
        if self
            .owners(std::iter::once(&item))
            .await?
            .elsewhere(w, &item)
        {
            return Ok(None);
        }
        tracing::info!(connection_id = %self.ctx.id().0, event_id = %w.event.id.0, item_id = %item.id, "adopting the item that already holds this record's slug");
        Ok(Some(if holds(&item, &w.item) {
            self.synced(w, &item.id, slug, None).await
        } else {
            self.update_one(w, &item.id, Some(slug), target).await
        }))
    }
}

/// The id-map entries around some items: those holding them, and those naming their slugs.
#[derive(Default)]
pub(super) struct Owners {
    holders: Vec<IdMapEntry>,
    named: Vec<IdMapEntry>,
}

impl Owners {
    /// Whether `item` belongs to another record than `w`'s: another entry holds it, or another
    /// entry names its slug (that record's create may be in flight, its item not yet known).
    pub(super) fn elsewhere(&self, w: &Write<'_>, item: &Item) -> bool {
        let other = |e: &&IdMapEntry| !e.is_of(w.key());
        self.holders
            .iter()
            .filter(other)
            .any(|e| e.webflow_item_id.as_deref() == Some(item.id.as_str()))
            || item.slug().is_some_and(|slug| {
                self.named
                    .iter()
                    .filter(other)
                    .any(|e| e.slug.as_deref() == Some(slug))
            })
    }
}
