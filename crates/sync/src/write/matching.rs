//! Matching: a record the id map does not know may already have its item in the collection (a
//! site built before the sync started). By the mapping's `match`, the item with the record's
//! slug, or the one whose match field holds the record's key, is adopted instead of
//! duplicated: the id map is written, and the item is updated only when it does not already
//! hold the record's content. An item another record holds is not taken; the record is
//! created (its slug then gets a suffix). The collection is read once per context and kept
//! current with what changed since, so looking before creating costs one call per batch.

use std::collections::HashSet;

use suiteflow_mapper::MatchOn;
use suiteflow_store::id_map;
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
                let outcome = self.synced(&w, &item.id, w.item.slug.as_str()).await;
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

    /// For each write, the item it may adopt: found by the mapping's `match`, and held by no
    /// other record.
    async fn find_existing(&mut self, fresh: &[Write<'a>]) -> Result<Vec<Option<Item>>, Failure> {
        let Some(mapping) = &self.ctx.mapping else {
            return Ok(vec![None; fresh.len()]);
        };
        let field = match mapping.match_on() {
            MatchOn::None => return Ok(vec![None; fresh.len()]),
            MatchOn::Slug => None,
            MatchOn::Field(field) => Some(field),
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
                    field,
                );
                *guard = Some(read.await?);
            }
        }
        let Some(index) = guard.as_ref() else {
            return Ok(vec![None; fresh.len()]);
        };
        let candidates: Vec<Option<Item>> = fresh
            .iter()
            .map(|w| match field {
                None => index.by_slug(w.item.slug.as_str()).cloned(),
                Some(_) => w
                    .match_key
                    .as_deref()
                    .and_then(|k| index.by_key(k))
                    .cloned(),
            })
            .collect();
        drop(guard);
        let held = self.held(candidates.iter().flatten()).await?;
        // Two records of one batch never adopt the same item: the first does.
        let mut taken = HashSet::new();
        Ok(candidates
            .into_iter()
            .map(|c| c.filter(|item| !held.contains(&item.id) && taken.insert(item.id.clone())))
            .collect())
    }

    /// Which of `items` another record's id map entry holds.
    async fn held(&self, items: impl Iterator<Item = &Item>) -> Result<HashSet<String>, Failure> {
        let ids: Vec<&str> = items.map(|i| i.id.as_str()).collect();
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        let mut conn = self.store.get().await?;
        let holders = id_map::holders(&mut conn, self.ctx.id(), &ids).await?;
        Ok(holders
            .into_iter()
            .filter_map(|e| e.webflow_item_id)
            .collect())
    }
}
