//! From claimed `record` events of one connection to Webflow items (DESIGN §6.4, §6.6): map,
//! then create, update or delete in bulk calls of at most 100 items, each call paid for from the
//! connection's shared token bucket, with the id map keeping every item written once.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Map, Value};
use suiteflow_mapper::{DeleteBehavior, MapResolvers, MappedItem};
use suiteflow_store::id_map::{self, IdMapEntry, RecordKey};
use suiteflow_store::{Event, EventId, IdMapState, Store};
use suiteflow_webflow_client::{Error as WfError, ItemData, ItemUpdate, RateInfo, Target};
use time::OffsetDateTime;

use crate::context::Context;
use crate::outcome::{Failure, Outcome, after};

/// Webflow's bulk limit.
pub const BULK_LIMIT: usize = 100;
/// Longest wait for a rate-limit token inside a batch; beyond it the events are rescheduled.
const MAX_TOKEN_WAIT: Duration = Duration::from_secs(5);
/// `-1` … `-9`: suffixes tried when another item holds the slug.
const SLUG_SUFFIXES: u32 = 9;
/// How long before an unknown create's recorded intent its item is looked for: room for the
/// difference between PostgreSQL's clock and Webflow's, and for a create Webflow applied late.
const CREATED_ON_MARGIN: time::Duration = time::Duration::minutes(10);

/// Processes one connection's claimed `record` events; returns an outcome per event and the
/// number of Webflow calls made.
pub async fn process(
    store: &Store,
    ctx: &Context,
    events: &[Event],
) -> (Vec<(EventId, Outcome)>, u32) {
    let mut sync = Sync {
        store,
        ctx,
        outcomes: Vec::new(),
        calls: 0,
    };
    sync.run(events).await;
    (sync.outcomes, sync.calls)
}

struct Sync<'a> {
    store: &'a Store,
    ctx: &'a Context,
    outcomes: Vec<(EventId, Outcome)>,
    calls: u32,
}

/// A mapped record on its way to Webflow.
struct Write<'e> {
    event: &'e Event,
    item: MappedItem,
    hash: String,
    /// An earlier create of this record whose outcome is unknown and whose item was not found:
    /// the slug it used and when its intent was recorded. Webflow may still apply it late.
    earlier_create: Option<(String, OffsetDateTime)>,
}

impl Write<'_> {
    fn key(&self) -> RecordKey<'_> {
        RecordKey::smartsuite(self.event.connection_id, &self.event.external_id)
    }

    fn target(&self) -> Target {
        if self.item.status.is_draft {
            Target::Staged
        } else {
            Target::Live
        }
    }

    fn data(&self, slug: Option<&str>, keep_slug: bool) -> ItemData {
        let mut field_data = self.item.field_data.clone();
        match slug {
            Some(slug) if keep_slug => {
                field_data.insert("slug".into(), Value::String(slug.to_string()));
            }
            _ => {
                field_data.remove("slug");
            }
        }
        let mut data = ItemData::new(field_data);
        data.is_draft = Some(self.item.status.is_draft);
        data.is_archived = Some(self.item.status.is_archived);
        data
    }

    fn warnings(&self) -> Vec<String> {
        self.item.warnings.iter().map(ToString::to_string).collect()
    }
}

impl<'a> Sync<'a> {
    async fn run(&mut self, events: &'a [Event]) {
        let mut writes = Vec::new();
        let mut deletes = Vec::new();
        for event in events {
            match self.prepare(event).await {
                Ok(Some(write)) => writes.push(write),
                Ok(None) => deletes.push(event),
                Err(failure) => self.finish(event.id, Outcome::Failed(failure)),
            }
        }
        if !writes.is_empty() {
            self.write(writes).await;
        }
        for event in deletes {
            let outcome = match self.delete(event).await {
                Ok(()) => Outcome::Done {
                    webflow_item_id: None,
                    warnings: Vec::new(),
                },
                Err(f) => Outcome::Failed(f),
            };
            self.finish(event.id, outcome);
        }
    }

    fn finish(&mut self, id: EventId, outcome: Outcome) {
        self.outcomes.push((id, outcome));
    }

    fn done(&mut self, w: &Write<'_>, item_id: &str) {
        let outcome = Outcome::Done {
            webflow_item_id: Some(item_id.to_string()),
            warnings: w.warnings(),
        };
        self.finish(w.event.id, outcome);
    }

    /// Maps the event's record. `Ok(None)`: the record is gone, delete its item.
    async fn prepare(&self, event: &'a Event) -> Result<Option<Write<'a>>, Failure> {
        let Some(mapping) = &self.ctx.mapping else {
            // A person must set a mapping: keep the event without spending attempts.
            return Err(Failure::Throttled(after(Duration::from_secs(60))));
        };
        if event.event_type == "record_deleted" {
            return Ok(None);
        }
        let record = match event.payload.get("data") {
            Some(Value::Object(data)) if !data.is_empty() => Value::Object(data.clone()),
            _ => match self
                .ctx
                .smartsuite
                .get_record(self.ctx.table_id(), &event.external_id)
                .await
            {
                Ok(record) => Value::Object(record.0),
                Err(suiteflow_smartsuite_client::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(Failure::from_smartsuite(e)),
            },
        };
        let soft_deleted = record
            .pointer("/deleted_date/date")
            .is_some_and(|d| !d.is_null());
        if soft_deleted {
            return Ok(None);
        }
        let resolvers = self.resolvers(mapping.lookups(&record)).await?;
        let item = mapping
            .map_record_with_id(&record, Some(&event.external_id), &resolvers)
            .map_err(|e| Failure::Permanent(e.to_string()))?;
        let hash = item.content_hash();
        Ok(Some(Write {
            event,
            item,
            hash,
            earlier_create: None,
        }))
    }

    /// Answers the mapper's questions: public URLs of files (SmartSuite, cached by handle) and
    /// Webflow ids of linked records (the id map of this or the named connection).
    async fn resolvers(&self, lookups: suiteflow_mapper::Lookups) -> Result<MapResolvers, Failure> {
        let mut resolvers = MapResolvers::default();
        for handle in lookups.file_handles {
            let cached = self
                .ctx
                .file_urls
                .lock()
                .ok()
                .and_then(|m| m.get(&handle).cloned());
            let url = match cached {
                Some(url) => url,
                None => {
                    let url = self
                        .ctx
                        .smartsuite
                        .shared_file_url(&handle)
                        .await
                        .map_err(Failure::from_smartsuite)?;
                    if let Ok(mut m) = self.ctx.file_urls.lock() {
                        m.insert(handle.clone(), url.clone());
                    }
                    url
                }
            };
            resolvers = resolvers.with_file(&handle, &url);
        }
        let mut by_connection: HashMap<Option<String>, Vec<String>> = HashMap::new();
        for (connection, record) in lookups.linked_records {
            by_connection.entry(connection).or_default().push(record);
        }
        for (connection, records) in by_connection {
            let connection_id = match &connection {
                None => self.ctx.id(),
                Some(text) => match uuid::Uuid::parse_str(text) {
                    Ok(uuid) => suiteflow_store::ConnectionId(uuid),
                    Err(_) => continue,
                },
            };
            let ids: Vec<&str> = records.iter().map(String::as_str).collect();
            let mut conn = self.db().await?;
            let entries = id_map::lookup_many(&mut conn, connection_id, id_map::SMARTSUITE, &ids)
                .await
                .map_err(store_failure)?;
            for entry in entries {
                if let (IdMapState::Synced, Some(item)) = (entry.state, &entry.webflow_item_id) {
                    resolvers =
                        resolvers.with_record(connection.as_deref(), &entry.external_id, item);
                }
            }
        }
        Ok(resolvers)
    }

    async fn db(&self) -> Result<suiteflow_store::PooledConnection, Failure> {
        self.store.get().await.map_err(store_failure)
    }

    /// Creates and updates, in bulk.
    async fn write(&mut self, writes: Vec<Write<'a>>) {
        let ids: Vec<&str> = writes
            .iter()
            .map(|w| w.event.external_id.as_str())
            .collect();
        let entries = match self.db().await {
            Ok(mut conn) => id_map::lookup_many(&mut conn, self.ctx.id(), id_map::SMARTSUITE, &ids)
                .await
                .map_err(store_failure),
            Err(f) => Err(f),
        };
        let entries: HashMap<String, IdMapEntry> = match entries {
            Ok(entries) => entries
                .into_iter()
                .map(|e| (e.external_id.clone(), e))
                .collect(),
            Err(f) => {
                for w in writes {
                    self.finish(w.event.id, Outcome::Failed(f.clone()));
                }
                return;
            }
        };

        let mut creates = Vec::new();
        let mut updates = Vec::new();
        // Writes whose earlier create has an unknown outcome, with the slug that create used.
        let mut unknown = Vec::new();
        for w in writes {
            let entry = entries.get(&w.event.external_id);
            match entry {
                Some(e) if e.state == IdMapState::Synced && e.webflow_item_id.is_some() => {
                    let item_id = e.webflow_item_id.clone().unwrap_or_default();
                    if e.field_data_hash.as_deref() == Some(w.hash.as_str()) {
                        // Unchanged: no call.
                        self.done(&w, &item_id);
                    } else {
                        updates.push((w, item_id, e.slug.clone()));
                    }
                }
                Some(e) if e.state == IdMapState::Creating => {
                    let slug = e
                        .slug
                        .clone()
                        .unwrap_or_else(|| w.item.slug.as_str().to_string());
                    unknown.push((w, slug));
                }
                _ => creates.push(w),
            }
        }
        if !unknown.is_empty() {
            // The slug each earlier create used tells whether Webflow made the item; it was
            // made, if at all, after the earliest of those creates recorded its intent.
            let slugs: Vec<String> = unknown.iter().map(|(_, slug)| slug.clone()).collect();
            let since = unknown
                .iter()
                .filter_map(|(w, _)| entries.get(&w.event.external_id))
                .map(|e| e.updated_at)
                .min()
                .map(|t| t - CREATED_ON_MARGIN);
            match self.find_by_slugs(&slugs, since).await {
                Ok(found) => {
                    for (mut w, slug) in unknown {
                        match found.get(&slug) {
                            Some(item_id) => {
                                tracing::info!(connection_id = %self.ctx.id().0, event_id = %w.event.id.0, "adopted the item an earlier create made");
                                updates.push((w, item_id.clone(), Some(slug)));
                            }
                            None => {
                                let intent_at = entries
                                    .get(&w.event.external_id)
                                    .map_or_else(OffsetDateTime::now_utc, |e| e.updated_at);
                                w.earlier_create = Some((slug, intent_at));
                                creates.push(w);
                            }
                        }
                    }
                }
                Err(f) => {
                    for (w, _) in unknown {
                        self.finish(w.event.id, Outcome::Failed(f.clone()));
                    }
                }
            }
        }
        self.create_all(creates).await;
        self.update_all(updates).await;
    }

    /// The items holding `slugs`, by slug, among the items created since `since`. One slug is
    /// looked up alone; for more, the items created since then are listed page by page (100
    /// per call; usually one page, as `since` is minutes ago) for as long as that costs fewer
    /// calls than the lookups left, which matters under Webflow's per-minute limit after a
    /// failed bulk create left a whole batch unknown.
    async fn find_by_slugs(
        &mut self,
        slugs: &[String],
        since: Option<OffsetDateTime>,
    ) -> Result<HashMap<String, String>, Failure> {
        let mut found = HashMap::new();
        if slugs.len() > 1 {
            let wanted: std::collections::HashSet<&str> =
                slugs.iter().map(String::as_str).collect();
            let mut query = suiteflow_webflow_client::ListItems {
                limit: Some(BULK_LIMIT as u32),
                created_since: since,
                ..Default::default()
            };
            loop {
                self.permit().await?;
                let reply = self
                    .ctx
                    .webflow
                    .list_items(self.ctx.collection_id(), &query)
                    .await;
                let page = self.observe(reply)?;
                for item in &page.items {
                    if let Some(slug) = item.slug().filter(|s| wanted.contains(s)) {
                        found.insert(slug.to_string(), item.id.clone());
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
                found.insert(slug.clone(), item.id);
            }
        }
        Ok(found)
    }

    async fn find_by_slug(
        &mut self,
        slug: &str,
    ) -> Result<Option<suiteflow_webflow_client::Item>, Failure> {
        self.permit().await?;
        let reply = self
            .ctx
            .webflow
            .find_item_by_slug(self.ctx.collection_id(), slug)
            .await;
        self.observe(reply)
    }

    async fn create_all(&mut self, creates: Vec<Write<'a>>) {
        // Record intent first: a crash between Webflow's create and our commit is then
        // resolved by the slug on the next attempt.
        let mut ready = Vec::new();
        for w in creates {
            match self.record_intent(&w, w.item.slug.as_str()).await {
                Ok(()) => ready.push(w),
                Err(f) => self.finish(w.event.id, Outcome::Failed(f)),
            }
        }
        for target in [Target::Live, Target::Staged] {
            let mut group: Vec<Write<'a>> = Vec::new();
            let mut rest = Vec::new();
            for w in ready {
                if w.target() == target {
                    group.push(w)
                } else {
                    rest.push(w)
                }
            }
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
        let result = match self.permit().await {
            Ok(()) => {
                let reply = self
                    .ctx
                    .webflow
                    .create_items(self.ctx.collection_id(), &items, target)
                    .await;
                self.observe(reply)
            }
            Err(f) => Err(f),
        };
        match result {
            Ok(created) => {
                let by_slug: HashMap<String, String> = created
                    .into_iter()
                    .filter_map(|item| {
                        let slug = item.field_data.get("slug")?.as_str()?.to_string();
                        Some((slug, item.id))
                    })
                    .collect();
                for w in chunk {
                    let outcome = match by_slug.get(w.item.slug.as_str()) {
                        Some(item_id) => self.synced(&w, item_id, w.item.slug.as_str()).await,
                        // Not in the answer: the next attempt finds it by slug or creates it.
                        None => Outcome::Failed(Failure::Transient(
                            "Webflow's bulk answer did not list this item".into(),
                        )),
                    };
                    self.finish(w.event.id, outcome);
                }
            }
            // One bad item fails a bulk call: find it by writing them one at a time.
            Err(Failure::Permanent(_)) => {
                for w in chunk {
                    let outcome = self.create_one(&w, target).await;
                    self.finish(w.event.id, outcome);
                }
            }
            Err(f) => {
                for w in chunk {
                    self.finish(w.event.id, Outcome::Failed(f.clone()));
                }
            }
        }
    }

    /// Creates one item; a slug held by another item gets `-1` … `-9`.
    async fn create_one(&mut self, w: &Write<'a>, target: Target) -> Outcome {
        let mut slug = w.item.slug.clone();
        for n in 0..=SLUG_SUFFIXES {
            if n > 0 {
                slug = w.item.slug.with_suffix(n);
                if let Err(f) = self.record_intent(w, slug.as_str()).await {
                    return Outcome::Failed(f);
                }
            }
            if let Err(f) = self.permit().await {
                return Outcome::Failed(f);
            }
            let reply = self
                .ctx
                .webflow
                .create_item(
                    self.ctx.collection_id(),
                    &w.data(Some(slug.as_str()), true),
                    target,
                )
                .await;
            match reply {
                Ok(reply) => {
                    self.note_rate(&reply.rate);
                    return self.synced(w, &reply.value.id, slug.as_str()).await;
                }
                Err(WfError::SlugTaken { .. }) => match self.late_create(w, slug.as_str()).await {
                    Ok(Some(item_id)) => {
                        tracing::info!(connection_id = %self.ctx.id().0, event_id = %w.event.id.0, "adopted the item an earlier create made late");
                        return self
                            .update_one(w, &item_id, Some(slug.as_str()), target)
                            .await;
                    }
                    Ok(None) => continue,
                    Err(f) => return Outcome::Failed(f),
                },
                Err(e) => return Outcome::Failed(self.webflow_failure(e)),
            }
        }
        Outcome::Failed(Failure::Permanent(format!(
            "slug {:?} and its suffixes -1 to -{SLUG_SUFFIXES} are all taken by other items",
            w.item.slug.as_str()
        )))
    }

    /// The item holding `slug`, when it is the late result of this record's earlier create of
    /// unknown outcome (Webflow applied it after the lookup that did not find it): that create
    /// used `slug`, the item was created after its intent (less the clock margin), and no other
    /// record's entry holds `slug`. Otherwise `None`: the slug is another item's, so the caller
    /// tries the next suffix.
    async fn late_create(&mut self, w: &Write<'a>, slug: &str) -> Result<Option<String>, Failure> {
        let Some((earlier_slug, intent_at)) = &w.earlier_create else {
            return Ok(None);
        };
        if earlier_slug != slug {
            return Ok(None);
        }
        let others = {
            let mut conn = self.db().await?;
            id_map::others_with_slug(&mut conn, w.key(), slug)
                .await
                .map_err(store_failure)?
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

    async fn update_all(&mut self, updates: Vec<(Write<'a>, String, Option<String>)>) {
        for target in [Target::Live, Target::Staged] {
            let group: Vec<&(Write<'a>, String, Option<String>)> = updates
                .iter()
                .filter(|(w, _, _)| w.target() == target)
                .collect();
            for chunk in group.chunks(BULK_LIMIT) {
                self.update_chunk(chunk.to_vec(), target).await;
            }
        }
    }

    async fn update_chunk(
        &mut self,
        chunk: Vec<&(Write<'a>, String, Option<String>)>,
        target: Target,
    ) {
        if chunk.len() > 1 {
            let updates: Vec<ItemUpdate> = chunk
                .iter()
                .map(|(w, id, old_slug)| ItemUpdate {
                    id: id.clone(),
                    data: self.update_data(w, old_slug.as_deref()),
                })
                .collect();
            let result = match self.permit().await {
                Ok(()) => {
                    let reply = self
                        .ctx
                        .webflow
                        .update_items(self.ctx.collection_id(), &updates, target)
                        .await;
                    self.observe(reply).map(|_| ())
                }
                Err(f) => Err(f),
            };
            match result {
                Ok(()) => {
                    for (w, id, _) in chunk {
                        let outcome = match self.unpublish_if_draft(w, id).await {
                            Ok(()) => self.synced(w, id, w.item.slug.as_str()).await,
                            Err(f) => Outcome::Failed(f),
                        };
                        self.finish(w.event.id, outcome);
                    }
                    return;
                }
                Err(Failure::Permanent(_)) => {} // per item below
                Err(f) => {
                    for (w, _, _) in chunk {
                        self.finish(w.event.id, Outcome::Failed(f.clone()));
                    }
                    return;
                }
            }
        }
        for (w, id, old_slug) in chunk {
            let outcome = self.update_one(w, id, old_slug.as_deref(), target).await;
            self.finish(w.event.id, outcome);
        }
    }

    /// The PATCH body: an unchanged slug is left out (Webflow refuses re-sending it).
    fn update_data(&self, w: &Write<'_>, old_slug: Option<&str>) -> ItemData {
        let changed = old_slug != Some(w.item.slug.as_str());
        w.data(Some(w.item.slug.as_str()), changed)
    }

    async fn update_one(
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
                Ok(()) => {
                    if let Err(f) = self.unpublish_if_draft(w, item_id).await {
                        return Outcome::Failed(f);
                    }
                    return self.synced(w, item_id, slug.as_str()).await;
                }
                Err(PatchError::SlugTaken) => continue,
                Err(PatchError::Gone) => {
                    // Deleted in Webflow: forget it, the next attempt creates it again.
                    let forgotten = match self.db().await {
                        Ok(mut conn) => id_map::remove(&mut conn, w.key())
                            .await
                            .map_err(store_failure),
                        Err(f) => Err(f),
                    };
                    return Outcome::Failed(match forgotten {
                        Ok(_) => Failure::Transient(format!(
                            "Webflow item {item_id} no longer exists; it will be created again"
                        )),
                        Err(f) => f,
                    });
                }
                Err(PatchError::Failed(f)) => return Outcome::Failed(f),
            }
        }
        Outcome::Failed(Failure::Permanent(format!(
            "slug {:?} and its suffixes -1 to -{SLUG_SUFFIXES} are all taken by other items",
            w.item.slug.as_str()
        )))
    }

    /// A record that became a draft: `isDraft: true` no longer takes a live item off the site
    /// (Webflow, July 2025), so the live version is unpublished explicitly.
    async fn unpublish_if_draft(&mut self, w: &Write<'_>, item_id: &str) -> Result<(), Failure> {
        if !w.item.status.is_draft {
            return Ok(());
        }
        self.permit().await?;
        let reply = self
            .ctx
            .webflow
            .unpublish_item(self.ctx.collection_id(), item_id)
            .await;
        match reply {
            // Never published, or already off the site: nothing to take down.
            Err(
                WfError::NotFound { .. }
                | WfError::Validation { .. }
                | WfError::NeverPublished { .. },
            ) => Ok(()),
            other => self.observe(other),
        }
    }

    /// One PATCH; a live PATCH of a never-published item falls back to a staged PATCH plus
    /// publish.
    async fn patch(
        &mut self,
        item_id: &str,
        data: &ItemData,
        target: Target,
    ) -> Result<(), PatchError> {
        self.permit().await.map_err(PatchError::Failed)?;
        let reply = self
            .ctx
            .webflow
            .update_item(self.ctx.collection_id(), item_id, data, target)
            .await;
        match reply {
            Ok(reply) => {
                self.note_rate(&reply.rate);
                Ok(())
            }
            Err(WfError::NeverPublished { .. }) => {
                self.permit().await.map_err(PatchError::Failed)?;
                let staged = self
                    .ctx
                    .webflow
                    .update_item(self.ctx.collection_id(), item_id, data, Target::Staged)
                    .await;
                self.observe(staged).map_err(PatchError::Failed)?;
                self.permit().await.map_err(PatchError::Failed)?;
                let ids = [item_id.to_string()];
                let published = self
                    .ctx
                    .webflow
                    .publish_items(self.ctx.collection_id(), &ids)
                    .await;
                let published = self.observe(published).map_err(PatchError::Failed)?;
                if published.published_item_ids.iter().any(|id| id == item_id) {
                    Ok(())
                } else {
                    Err(PatchError::Failed(Failure::Transient(format!(
                        "Webflow did not publish item {item_id}: {:?}",
                        published.errors
                    ))))
                }
            }
            Err(WfError::SlugTaken { .. }) => Err(PatchError::SlugTaken),
            Err(WfError::NotFound { .. }) => Err(PatchError::Gone),
            Err(e) => Err(PatchError::Failed(self.webflow_failure(e))),
        }
    }

    /// A deleted record: archive, unpublish or delete its item, per the mapping.
    async fn delete(&mut self, event: &Event) -> Result<(), Failure> {
        let key = RecordKey::smartsuite(event.connection_id, &event.external_id);
        let entry = {
            let mut conn = self.db().await?;
            id_map::lookup(&mut conn, key)
                .await
                .map_err(store_failure)?
        };
        let Some(item_id) =
            entry.and_then(|e| e.webflow_item_id.filter(|_| e.state != IdMapState::Deleted))
        else {
            return Ok(()); // nothing was written for it
        };
        let behavior = self
            .ctx
            .mapping
            .as_ref()
            .map(|m| m.delete_behavior())
            .unwrap_or_default();
        let collection = self.ctx.collection_id().to_string();
        let result = match behavior {
            DeleteBehavior::Archive => {
                let mut data = ItemData::new(Map::new());
                data.is_archived = Some(true);
                match self.patch(&item_id, &data, Target::Live).await {
                    Ok(()) | Err(PatchError::Gone) => Ok(()),
                    Err(PatchError::SlugTaken) => Err(Failure::Permanent(
                        "unexpected slug conflict while archiving".into(),
                    )),
                    Err(PatchError::Failed(f)) => Err(f),
                }
            }
            DeleteBehavior::Unpublish => {
                self.permit().await?;
                let reply = self.ctx.webflow.unpublish_item(&collection, &item_id).await;
                self.gone_is_fine(reply)
            }
            DeleteBehavior::Delete => {
                self.permit().await?;
                let reply = self.ctx.webflow.delete_item(&collection, &item_id).await;
                self.gone_is_fine(reply)
            }
        };
        result?;
        let mut conn = self.db().await?;
        id_map::mark_deleted(&mut conn, key)
            .await
            .map_err(store_failure)?;
        Ok(())
    }

    fn gone_is_fine(
        &mut self,
        reply: Result<suiteflow_webflow_client::Reply<()>, WfError>,
    ) -> Result<(), Failure> {
        match reply {
            Err(WfError::NotFound { .. }) => Ok(()),
            other => self.observe(other),
        }
    }

    async fn record_intent(&self, w: &Write<'_>, slug: &str) -> Result<(), Failure> {
        let mut conn = self.db().await?;
        id_map::record_intent(&mut conn, w.key(), slug)
            .await
            .map_err(store_failure)?;
        Ok(())
    }

    async fn synced(&self, w: &Write<'_>, item_id: &str, slug: &str) -> Outcome {
        let marked = match self.db().await {
            Ok(mut conn) => id_map::mark_synced(&mut conn, w.key(), item_id, Some(slug), &w.hash)
                .await
                .map_err(store_failure),
            Err(f) => Err(f),
        };
        match marked {
            Ok(_) => Outcome::Done {
                webflow_item_id: Some(item_id.to_string()),
                warnings: w.warnings(),
            },
            Err(f) => Outcome::Failed(f),
        }
    }

    /// One token of the connection's Webflow budget; counts the call.
    async fn permit(&mut self) -> Result<(), Failure> {
        let ctx = self.ctx;
        webflow_token(
            self.store,
            &ctx.connection,
            ctx.rate_window,
            Some(&ctx.webflow_pause),
        )
        .await?;
        self.calls += 1;
        Ok(())
    }

    /// Records Webflow's rate headers and classifies an error.
    fn observe<T>(
        &mut self,
        reply: Result<suiteflow_webflow_client::Reply<T>, WfError>,
    ) -> Result<T, Failure> {
        match reply {
            Ok(reply) => {
                self.note_rate(&reply.rate);
                Ok(reply.value)
            }
            Err(e) => Err(self.webflow_failure(e)),
        }
    }

    fn webflow_failure(&mut self, e: WfError) -> Failure {
        if let WfError::RateLimited { retry_after, .. } = &e {
            self.pause_until(after(*retry_after));
        }
        Failure::from_webflow(e)
    }

    fn note_rate(&mut self, rate: &RateInfo) {
        if rate.remaining == Some(0) {
            self.pause_until(after(rate.retry_after.unwrap_or(Duration::from_secs(1))));
        }
    }

    fn pause_until(&self, until: OffsetDateTime) {
        if let Ok(mut pause) = self.ctx.webflow_pause.lock() {
            *pause = Some(pause.map_or(until, |p| p.max(until)));
        }
    }
}

enum PatchError {
    SlugTaken,
    Gone,
    Failed(Failure),
}

/// Waits for a token of the connection's shared Webflow bucket (all worker replicas draw from
/// it) and for any pause Webflow asked for (`pause`); a wait longer than a few seconds returns
/// `Throttled`, so the caller reschedules instead of holding its claim.
pub async fn webflow_token(
    store: &Store,
    connection: &suiteflow_store::Connection,
    window: Duration,
    pause: Option<&std::sync::Mutex<Option<OffsetDateTime>>>,
) -> Result<(), Failure> {
    let per_minute = u32::try_from(connection.rate_limit_per_min.max(1)).unwrap_or(50);
    let rate = suiteflow_store::Rate::new(per_minute, window);
    let deadline = OffsetDateTime::now_utc() + MAX_TOKEN_WAIT;
    loop {
        let paused = pause.and_then(|p| p.lock().ok().and_then(|p| *p));
        let wait_until = match paused {
            Some(until) if until > OffsetDateTime::now_utc() => until,
            _ => {
                let mut conn = store.get().await.map_err(store_failure)?;
                let bucket = suiteflow_store::WEBFLOW_BUCKET;
                let take = suiteflow_store::take_from(&mut conn, connection.id, bucket, 1, rate);
                match take.await.map_err(store_failure)? {
                    suiteflow_store::Take::Granted { .. } => {
                        crate::metrics::webflow_call();
                        return Ok(());
                    }
                    suiteflow_store::Take::RetryAt(at) => at,
                }
            }
        };
        if wait_until > deadline {
            crate::metrics::rate_limit_wait("webflow");
            return Err(Failure::Throttled(wait_until));
        }
        let wait = Duration::try_from(wait_until - OffsetDateTime::now_utc()).unwrap_or_default();
        tokio::time::sleep(wait.max(Duration::from_millis(5))).await;
    }
}

pub fn store_failure(e: suiteflow_store::StoreError) -> Failure {
    Failure::Transient(format!("database: {e}"))
}
