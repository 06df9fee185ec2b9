//! From one connection's claimed `record` events to Webflow items: map each record
//! ([`prepare`]), sort the writes by what the id map knows ([`plan`]), find the existing item
//! of a record the id map does not know ([`matching`]), resolve creates whose outcome is
//! unknown ([`adopt`]), then create, update and delete in bulk calls of at most 100 items, each
//! call paid from the connection's budget, with the id map keeping every item written once
//! (docs/architecture.md, "The write path").

mod adopt;
mod create;
mod delete;
mod links;
mod matching;
mod plan;
mod prepare;
mod update;

use serde_json::{Map, Value};
use suiteflow_mapper::MappedItem;
use suiteflow_store::id_map::{self, RecordKey};
use suiteflow_store::{ConnectionId, Event, EventId, Store};
use suiteflow_webflow_client::{Item, ItemData, Target};
use time::OffsetDateTime;

use crate::budget::{SmartSuiteBudget, WebflowBudget};
use crate::context::ConnectionContext;
use crate::failure::Failure;
use crate::outcome::Outcome;

/// Webflow's bulk limit.
pub const BULK_LIMIT: usize = 100;
/// `-1` … `-9`: suffixes tried when another item holds the slug.
const SLUG_SUFFIXES: u32 = 9;

/// What a batch of writes came to.
pub struct Written {
    /// One outcome per event.
    pub outcomes: Vec<(EventId, Outcome)>,
    /// Webflow calls made.
    pub webflow_calls: u32,
}

/// Processes one connection's claimed `record` events.
pub async fn write(store: &Store, ctx: &ConnectionContext, events: &[Event]) -> Written {
    let mut batch = Batch {
        store,
        ctx,
        budget: ctx.budget(store),
        smartsuite: ctx.smartsuite_budget(store),
        outcomes: Vec::new(),
        links: Vec::new(),
    };
    batch.run(events).await;
    Written {
        webflow_calls: batch.budget.calls(),
        outcomes: batch.outcomes,
    }
}

/// One batch of one connection's events on its way to Webflow: each concern (prepare, plan,
/// adopt, create, update, delete) adds its own methods in its own module.
struct Batch<'a> {
    store: &'a Store,
    ctx: &'a ConnectionContext,
    budget: WebflowBudget<'a>,
    smartsuite: SmartSuiteBudget<'a>,
    outcomes: Vec<(EventId, Outcome)>,
    /// What each prepared record waits for (see [`links`]).
    links: Vec<links::Links>,
}

/// A mapped record on its way to Webflow.
struct Write<'e> {
    event: &'e Event,
    item: MappedItem,
    hash: String,
    /// The record's match key, under `match: {on: field}`.
    match_key: Option<String>,
    /// An earlier create of this record whose outcome is unknown and whose item was not found:
    /// the slug it used and when its intent was recorded. Webflow may still apply it late.
    earlier_create: Option<(String, OffsetDateTime)>,
    /// Linked records without an item yet (connection, record).
    pending_links: Vec<(ConnectionId, String)>,
    /// What the file fields carry (`{field: value}`): Webflow fetches them on every write
    /// that sends them.
    files: Map<String, Value>,
    /// The files the item holds already (from the id map), for an update: a file field that
    /// did not change is left out of the PATCH.
    sent_files: Option<Map<String, Value>>,
    /// The record's last-modified time (`last_updated.on`), when the record carries it.
    modified_at: Option<OffsetDateTime>,
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

    /// The item's data with `slug` (sent only when `keep_slug`: Webflow refuses an unchanged
    /// slug in some PATCHes), without the file fields the item already holds.
    fn data(&self, slug: Option<&str>, keep_slug: bool) -> ItemData {
        let mut field_data = self.item.field_data.clone();
        for field in self.unchanged_files() {
            field_data.remove(field);
        }
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

    /// The file fields whose files the item holds already.
    fn unchanged_files(&self) -> impl Iterator<Item = &str> {
        self.files
            .iter()
            .filter(|(field, value)| {
                self.sent_files
                    .as_ref()
                    .is_some_and(|sent| sent.get(*field) == Some(*value))
            })
            .map(|(field, _)| field.as_str())
    }

    /// After a write Webflow answered with `answer`: the files the item now holds, and a
    /// warning for each file Webflow dropped (it drops a file it cannot fetch, or one over
    /// 4 MB, without refusing the write). Without an answer, the files are taken as written.
    fn files_after(&self, answer: Option<&Item>) -> (Map<String, Value>, Vec<String>) {
        let unchanged: Vec<&str> = self.unchanged_files().collect();
        let mut landed = Map::new();
        let mut dropped = Vec::new();
        for (field, sent) in &self.files {
            let held = answer.map(|item| item.field_data.get(field).unwrap_or(&Value::Null));
            match held {
                Some(held)
                    if !unchanged.contains(&field.as_str()) && files_in(held) < files_in(sent) =>
                {
                    dropped.push(match sent {
                        Value::Array(all) => format!(
                            "{field}: Webflow dropped {} of {} files (it could not fetch them, or they are over 4 MB)",
                            files_in(sent) - files_in(held),
                            all.len()
                        ),
                        _ => format!(
                            "{field}: Webflow dropped the file {} (it could not fetch it, or it is over 4 MB)",
                            sent.get("url").and_then(Value::as_str).unwrap_or("?")
                        ),
                    });
                }
                _ => {
                    landed.insert(field.clone(), sent.clone());
                }
            }
        }
        (landed, dropped)
    }
}

/// How many files a file field's value holds.
fn files_in(value: &Value) -> usize {
    match value {
        Value::Null => 0,
        Value::Array(files) => files.iter().filter(|f| !f.is_null()).count(),
        _ => 1,
    }
}

impl<'a> Batch<'a> {
    async fn run(&mut self, events: &'a [Event]) {
        let mut writes = Vec::new();
        let mut deletes = Vec::new();
        let fetched = self.fetch_records(events).await;
        for event in events {
            match self.prepare(event, &fetched).await {
                Ok(Some(write)) => {
                    self.links.push(links::Links {
                        event: event.id,
                        record: event.external_id.clone(),
                        targets: write.pending_links.clone(),
                        written: true,
                    });
                    writes.push(write);
                }
                Ok(None) => {
                    self.links.push(links::Links {
                        event: event.id,
                        record: event.external_id.clone(),
                        targets: Vec::new(),
                        written: false,
                    });
                    deletes.push(event);
                }
                Err(failure) => self.finish(event.id, failure),
            }
        }
        if !writes.is_empty() {
            let plan = self.plan(writes).await;
            self.create_all(plan.creates).await;
            self.update_all(plan.updates).await;
        }
        for event in deletes {
            let outcome = match self.delete(event).await {
                Ok(()) => Outcome::done(None, Vec::new()),
                Err(f) => Outcome::Failed(f),
            };
            self.finish(event.id, outcome);
        }
        self.settle_links().await;
    }

    fn finish(&mut self, id: EventId, outcome: impl Into<Outcome>) {
        self.outcomes.push((id, outcome.into()));
    }

    /// Finishes every event with the same failure (a bulk call that failed as a whole).
    fn fail_all(&mut self, events: impl IntoIterator<Item = EventId>, f: &Failure) {
        for id in events {
            self.finish(id, f.clone());
        }
    }

    /// The record's item is `item_id` and holds what `w` maps to (Webflow's `answer` to the
    /// write, when there was one, tells which files it kept): remember it in the id map.
    async fn synced(
        &self,
        w: &Write<'_>,
        item_id: &str,
        slug: &str,
        answer: Option<&Item>,
    ) -> Outcome {
        let (files, dropped) = w.files_after(answer);
        let files = (!files.is_empty()).then_some(Value::Object(files));
        let marked = async {
            let mut conn = self.store.get().await?;
            let written = id_map::Written {
                webflow_item_id: item_id,
                slug: Some(slug),
                field_data_hash: Some(&w.hash),
                files: files.as_ref(),
                source_modified_at: w.modified_at,
            };
            id_map::mark_written(&mut conn, w.key(), &written).await
        };
        match marked.await {
            Ok(_) => {
                let mut warnings = w.warnings();
                warnings.extend(dropped);
                match answer {
                    Some(item) => Outcome::written(item, warnings),
                    None => Outcome::done(Some(item_id.to_string()), warnings),
                }
            }
            Err(e) => Outcome::Failed(e.into()),
        }
    }

    /// Before a create: the record's item is being made with `slug`, so a create whose answer
    /// is lost is found by that slug, not made twice.
    async fn record_intent(&self, w: &Write<'_>, slug: &str) -> Result<(), Failure> {
        let mut conn = self.store.get().await?;
        id_map::record_intent(&mut conn, w.key(), slug).await?;
        Ok(())
    }
}

/// Every slug suffix was taken.
fn slugs_taken(w: &Write<'_>) -> Failure {
    Failure::permanent(format!(
        "slug {:?} and its suffixes -1 to -{SLUG_SUFFIXES} are all taken by other items",
        w.item.slug.as_str()
    ))
}
