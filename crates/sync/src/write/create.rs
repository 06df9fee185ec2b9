//! Create: new items, live or staged, in bulk calls of at most 100. The intent is recorded in
//! the id map before every create; one bad item fails a bulk call, so a refused bulk call is
//! retried item by item to find it. A refused slug is the record's own item when no record
//! holds it (it is adopted, see [`matching`](super::matching)); held by another record's item,
//! it gets `-1` … `-9`.

use std::collections::HashMap;

use suiteflow_webflow_client::{Error as WebflowError, Item, ItemData, Target};

use super::{BULK_LIMIT, Batch, SLUG_SUFFIXES, Write, slugs_taken};
use crate::failure::{Failure, FailureKind};
use crate::outcome::Outcome;

impl<'a> Batch<'a> {
    pub(super) async fn create_all(&mut self, creates: Vec<Write<'a>>) {
        // Record intent first: a crash between Webflow's create and our commit is then
        // resolved by the slug on the next attempt.
        let mut ready = Vec::new();
        for w in creates {
            match self.record_intent(&w, w.item.slug.as_str()).await {
                Ok(()) => ready.push(w),
                Err(f) => self.finish(w.event.id, f),
            }
        }
        for target in [Target::Live, Target::Staged] {
            let (mut group, rest): (Vec<Write<'a>>, Vec<Write<'a>>) =
                ready.into_iter().partition(|w| w.target() == target);
            ready = rest;
            while !group.is_empty() {
                let chunk: Vec<Write<'a>> = group.drain(..group.len().min(BULK_LIMIT)).collect();
                self.create_chunk(chunk, target).await;
            }
        }
    }

    async fn create_chunk(&mut self, chunk: Vec<Write<'a>>, target: Target) {
        if chunk.len() == 1 {
            for w in chunk {
                let outcome = self.create_one(&w, target).await;
                self.finish(w.event.id, outcome);
            }
            return;
        }
        let items: Vec<ItemData> = chunk
            .iter()
            .map(|w| w.data(Some(w.item.slug.as_str()), true))
            .collect();
        let created = self
            .budget
            .call(
                self.ctx
                    .webflow
                    .create_items(self.ctx.collection_id(), &items, target),
            )
            .await;
        match created {
            Ok(created) => {
                let by_slug: HashMap<String, Item> = created
                    .into_iter()
                    .filter_map(|item| {
                        let slug = item.field_data.get("slug")?.as_str()?.to_string();
                        Some((slug, item))
                    })
                    .collect();
                for w in chunk {
                    let outcome = match by_slug.get(w.item.slug.as_str()) {
                        Some(item) => {
                            self.synced(&w, &item.id, w.item.slug.as_str(), Some(item))
                                .await
                        }
                        // Not in the answer: the next attempt finds it by slug or creates it.
                        None => Outcome::Failed(Failure::retry(
                            "Webflow's bulk answer did not list this item",
                        )),
                    };
                    self.finish(w.event.id, outcome);
                }
            }
            // One bad item fails a bulk call: find it by writing them one at a time.
            Err(f) if f.kind() == FailureKind::Permanent => {
                for w in chunk {
                    let outcome = self.create_one(&w, target).await;
                    self.finish(w.event.id, outcome);
                }
            }
            Err(f) => self.fail_all(chunk.iter().map(|w| w.event.id), &f),
        }
    }

    /// Creates one item; a slug held by another item gets `-1` … `-9`.
    async fn create_one(&mut self, w: &Write<'a>, target: Target) -> Outcome {
        let mut slug = w.item.slug.clone();
        for n in 0..=SLUG_SUFFIXES {
            if n > 0 {
                slug = w.item.slug.with_suffix(n);
                if let Err(f) = self.record_intent(w, slug.as_str()).await {
                    return f.into();
                }
            }
            let data = w.data(Some(slug.as_str()), true);
            let reply = self
                .budget
                .send(
                    self.ctx
                        .webflow
                        .create_item(self.ctx.collection_id(), &data, target),
                )
                .await;
            match reply {
                Ok(Ok(item)) => return self.synced(w, &item.id, slug.as_str(), Some(&item)).await,
                Ok(Err(WebflowError::SlugTaken { .. })) => {
                    match self.late_create(w, slug.as_str()).await {
                        Ok(Some(item_id)) => {
                            tracing::info!(connection_id = %self.ctx.id().0, event_id = %w.event.id.0, "adopted the item an earlier create made late");
                            return self
                                .update_one(w, &item_id, Some(slug.as_str()), target)
                                .await;
                        }
                        Ok(None) if n == 0 => {
                            match self.adopt_slug_holder(w, slug.as_str(), target).await {
                                Ok(Some(outcome)) => return outcome,
                                Ok(None) => continue,
                                Err(f) => return f.into(),
                            }
                        }
                        Ok(None) => continue,
                        Err(f) => return f.into(),
                    }
                }
                Ok(Err(e)) => return Failure::from(e).into(),
                Err(f) => return f.into(),
            }
        }
        slugs_taken(w).into()
    }
}
