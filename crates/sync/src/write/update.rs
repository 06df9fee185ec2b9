//! Update: items that exist, in bulk PATCHes of at most 100 (live or staged). A refused bulk
//! call is retried item by item; a slug held by another item gets `-1` … `-9`; a live PATCH of
//! a never-published item becomes a staged PATCH and a publish; a record that became a draft is
//! taken off the live site; an item deleted in Webflow is forgotten, to be created again.

use suiteflow_store::id_map;
use suiteflow_webflow_client::{Error as WebflowError, Item, ItemData, ItemUpdate, Target};

use super::plan::Update;
use super::{BULK_LIMIT, Batch, SLUG_SUFFIXES, Write, slugs_taken};
use crate::failure::{Failure, FailureKind};
use crate::outcome::Outcome;

/// Why one PATCH did not apply.
pub(super) enum PatchError {
    /// Another item holds the slug.
    SlugTaken,
    /// The item no longer exists.
    Gone,
    Failed(Failure),
}

impl From<Failure> for PatchError {
    fn from(f: Failure) -> Self {
        Self::Failed(f)
    }
}

impl<'a> Batch<'a> {
    pub(super) async fn update_all(&mut self, updates: Vec<Update<'a>>) {
        for target in [Target::Live, Target::Staged] {
            let group: Vec<&Update<'a>> = updates
                .iter()
                .filter(|u| u.write.target() == target)
                .collect();
            for chunk in group.chunks(BULK_LIMIT) {
                self.update_chunk(chunk, target).await;
            }
        }
    }

    async fn update_chunk(&mut self, chunk: &[&Update<'a>], target: Target) {
        if chunk.len() > 1 {
            let updates: Vec<ItemUpdate> = chunk
                .iter()
                .map(|u| ItemUpdate {
                    id: u.item_id.clone(),
                    data: update_data(&u.write, u.old_slug.as_deref()),
                })
                .collect();
            let result = self
                .budget
                .call(
                    self.ctx
                        .webflow
                        .update_items(self.ctx.collection_id(), &updates, target),
                )
                .await;
            match result {
                Ok(updated) => {
                    for u in chunk {
                        let answer = updated.iter().find(|i| i.id == u.item_id);
                        let outcome = match self.unpublish_if_draft(&u.write, &u.item_id).await {
                            Ok(()) => {
                                self.synced(
                                    &u.write,
                                    &u.item_id,
                                    u.write.item.slug.as_str(),
                                    answer,
                                )
                                .await
                            }
                            Err(f) => Outcome::Failed(f),
                        };
                        self.finish(u.write.event.id, outcome);
                    }
                    return;
                }
                // One bad item fails a bulk call: find it by writing them one at a time.
                Err(f) if f.kind() == FailureKind::Permanent => {}
                Err(f) => {
                    self.fail_all(chunk.iter().map(|u| u.write.event.id), &f);
                    return;
                }
            }
        }
        for u in chunk {
            let outcome = self
                .update_one(&u.write, &u.item_id, u.old_slug.as_deref(), target)
                .await;
            self.finish(u.write.event.id, outcome);
        }
    }

    pub(super) async fn update_one(
        &mut self,
        w: &Write<'a>,
        item_id: &str,
        old_slug: Option<&str>,
        target: Target,
    ) -> Outcome {
        let mut slug = w.item.slug.clone();
        for n in 0..=SLUG_SUFFIXES {
            if n > 0 {
                slug = w.item.slug.with_suffix(n);
            }
            let data = w.data(Some(slug.as_str()), old_slug != Some(slug.as_str()));
            match self.patch(item_id, &data, target).await {
                Ok(answer) => {
                    if let Err(f) = self.unpublish_if_draft(w, item_id).await {
                        return f.into();
                    }
                    return self.synced(w, item_id, slug.as_str(), Some(&answer)).await;
                }
                Err(PatchError::SlugTaken) => continue,
                Err(PatchError::Gone) => return self.forget(w, item_id).await.into(),
                Err(PatchError::Failed(f)) => return f.into(),
            }
        }
        slugs_taken(w).into()
    }

    /// The record's item was deleted in Webflow: forget it, so the next attempt creates it
    /// again (and does not adopt it from the collection index either).
    async fn forget(&self, w: &Write<'_>, item_id: &str) -> Failure {
        if let Some(index) = self.ctx.match_index.lock().await.as_mut() {
            index.forget(item_id);
        }
        let forgotten = async {
            let mut conn = self.store.get().await?;
            id_map::remove(&mut conn, w.key()).await
        };
        match forgotten.await {
            Ok(_) => Failure::retry(format!(
                "Webflow item {item_id} no longer exists; it will be created again"
            )),
            Err(e) => e.into(),
        }
    }

    /// A record that became a draft: `isDraft: true` no longer takes a live item off the site
    /// (Webflow, July 2025), so the live version is unpublished explicitly.
    async fn unpublish_if_draft(&mut self, w: &Write<'_>, item_id: &str) -> Result<(), Failure> {
        if !w.item.status.is_draft {
            return Ok(());
        }
        let reply = self
            .budget
            .send(
                self.ctx
                    .webflow
                    .unpublish_item(self.ctx.collection_id(), item_id),
            )
            .await?;
        match reply {
            // Never published, or already off the site: nothing to take down.
            Ok(())
            | Err(
                WebflowError::NotFound { .. }
                | WebflowError::Validation { .. }
                | WebflowError::NeverPublished { .. },
            ) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// One PATCH, answered with the item; a live PATCH of a never-published item falls back to
    /// a staged PATCH plus publish.
    pub(super) async fn patch(
        &mut self,
        item_id: &str,
        data: &ItemData,
        target: Target,
    ) -> Result<Item, PatchError> {
        let collection = self.ctx.collection_id();
        let webflow = &self.ctx.webflow;
        let reply = self
            .budget
            .send(webflow.update_item(collection, item_id, data, target))
            .await?;
        match reply {
            Ok(item) => Ok(item),
            Err(WebflowError::NeverPublished { .. }) => {
                let item = self
                    .budget
                    .call(webflow.update_item(collection, item_id, data, Target::Staged))
                    .await?;
                let ids = [item_id.to_string()];
                let published = self
                    .budget
                    .call(webflow.publish_items(collection, &ids))
                    .await?;
                if published.published_item_ids.iter().any(|id| id == item_id) {
                    Ok(item)
                } else {
                    Err(PatchError::Failed(Failure::retry(format!(
                        "Webflow did not publish item {item_id}: {:?}",
                        published.errors
                    ))))
                }
            }
            Err(WebflowError::SlugTaken { .. }) => Err(PatchError::SlugTaken),
            Err(WebflowError::NotFound { .. }) => Err(PatchError::Gone),
            Err(e) => Err(PatchError::Failed(e.into())),
        }
    }
}

/// The PATCH body: an unchanged slug is left out (Webflow refuses re-sending it).
fn update_data(w: &Write<'_>, old_slug: Option<&str>) -> ItemData {
    let changed = old_slug != Some(w.item.slug.as_str());
    w.data(Some(w.item.slug.as_str()), changed)
}
