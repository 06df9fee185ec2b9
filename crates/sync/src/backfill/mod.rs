//! A backfill: every record of the connection's SmartSuite table, matched against what the
//! Webflow collection already holds, as a plan (what to create, adopt, update, leave alone,
//! and the items no record holds), then carried out. Reading both sides costs one listing of
//! the collection (100 items a call), not a lookup per record; adopting an item is an id map
//! write, and only the records whose item needs new content become events for the worker.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};
use suiteflow_mapper::{DeleteBehavior, MatchOn};
use suiteflow_smartsuite_client::ListRecords;
use suiteflow_store::id_map::{self, RecordKey, SMARTSUITE};
use suiteflow_store::queue::{NewEvent, enqueue_many};
use suiteflow_store::{Connection, ConnectionId, IdMapState, Store};
use suiteflow_webflow_client::Item;

use crate::admin::{self, Actor};
use crate::budget::SmartSuiteBudget;
use crate::connect::{Clients, Connector, compile};
use crate::failure::Failure;
use crate::index::{CollectionIndex, holds};
use crate::resolve::resolve;

mod prune;
mod queue_all;

pub use queue_all::{QueueAll, Queued, queue_all};

/// `event_type` of backfilled events: an upsert, like a push's `record_updated`.
pub const BACKFILL_EVENT_TYPE: &str = "record_updated";

/// What a record needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// No item holds it: the worker creates one.
    Create,
    /// An existing item matches it and no other record holds that item: it becomes the
    /// record's; `update` when it does not already hold the record's content. `new_slug`: the
    /// record's slug, when the update gives the item another one (and so another URL).
    Adopt {
        item_id: String,
        slug: Option<String>,
        update: bool,
        new_slug: Option<String>,
    },
    /// Its item holds older content: the worker updates it.
    Update { item_id: String },
    /// Its item already holds this content.
    Unchanged { item_id: String },
}

/// One record and what it needs.
#[derive(Debug, Clone)]
pub struct Planned {
    pub record_id: String,
    pub record: Map<String, Value>,
    pub step: Step,
    hash: String,
}

/// A backfill's plan.
#[derive(Debug, Default)]
pub struct Plan {
    pub records: Vec<Planned>,
    /// Items of the collection that no record holds or matches.
    pub orphans: Vec<Item>,
    /// Records that cannot be written, with why (a required field without a value).
    pub unmappable: Vec<(String, String)>,
    /// Records SmartSuite listed without an id.
    pub without_id: u64,
    /// Files whose public URL SmartSuite would not give, as (record id, file handle): the
    /// records are written without them (a warning), as the worker would.
    pub unresolved_files: Vec<(String, String)>,
    /// What the mapping does to an item whose record is gone (applied to orphans on `prune`).
    pub delete_behavior: DeleteBehavior,
}

/// How many of each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub create: usize,
    /// Items taken over (some of them also counted in `update`).
    pub adopt: usize,
    /// Items whose content will be rewritten: records changed since their last write, and
    /// adopted items that do not hold the record's content.
    pub update: usize,
    pub unchanged: usize,
    pub orphans: usize,
    /// Adopted items whose slug (URL) the update changes.
    pub slug_changes: usize,
}

impl Plan {
    pub fn counts(&self) -> Counts {
        let mut counts = Counts {
            orphans: self.orphans.len(),
            ..Counts::default()
        };
        for planned in &self.records {
            match planned.step {
                Step::Create => counts.create += 1,
                Step::Adopt {
                    update,
                    ref new_slug,
                    ..
                } => {
                    counts.adopt += 1;
                    counts.update += usize::from(update);
                    counts.slug_changes += usize::from(new_slug.is_some());
                }
                Step::Update { .. } => counts.update += 1,
                Step::Unchanged { .. } => counts.unchanged += 1,
            }
        }
        counts
    }

    /// The ids of the records at a step (`create`, `adopt`, `update`, `unchanged`).
    pub fn ids(&self, step: &str) -> Vec<&str> {
        self.records
            .iter()
            .filter(|p| match (&p.step, step) {
                (Step::Create, "create") | (Step::Adopt { .. }, "adopt") => true,
                (Step::Adopt { update, .. }, "update") => *update,
                (Step::Update { .. }, "update") | (Step::Unchanged { .. }, "unchanged") => true,
                _ => false,
            })
            .map(|p| p.record_id.as_str())
            .collect()
    }
}

/// Reads both sides (SmartSuite records `page_size` a call, up to 1,000) and plans. Writes
/// nothing anywhere. `progress` hears how many SmartSuite records were read out of how many.
pub async fn plan(
    store: &Store,
    connector: &Connector,
    connection: &Connection,
    mapping: &suiteflow_store::Mapping,
    page_size: u32,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Plan, Failure> {
    let session = connector.session(store, connection)?;
    let (clients, budget, smartsuite) = (&session.clients, &session.webflow, &session.smartsuite);
    let schemas = session.schemas().await?;
    let doc = crate::mapping::document(mapping)
        .map_err(|e| Failure::permanent(format!("the stored mapping does not parse: {e}")))?;
    let compiled = compile(&doc, &schemas)?;
    let field = match compiled.match_on() {
        MatchOn::Field(field) => Some(field),
        MatchOn::Slug | MatchOn::None => None,
    };
    let index = CollectionIndex::read(
        budget,
        &clients.webflow,
        &connection.webflow_collection_id,
        field,
    )
    .await?;
    let records = read_records(clients, smartsuite, connection, page_size, progress).await?;
    let entries: HashMap<String, id_map::IdMapEntry> = {
        let mut conn = store.get().await?;
        id_map::entries_of(&mut conn, connection.id)
            .await?
            .into_iter()
            .filter(|e| e.external_source == SMARTSUITE)
            .map(|e| (e.external_id.clone(), e))
            .collect()
    };
    let mut held: HashSet<String> = entries
        .values()
        .filter(|e| e.state != IdMapState::Deleted)
        .filter_map(|e| e.webflow_item_id.clone())
        .collect();
    // Slugs the id map gives records: an item with one is that record's (its create may be in
    // flight, the item id not yet known), neither adopted by another record nor an orphan.
    let named: HashSet<&str> = entries.values().filter_map(|e| e.slug.as_deref()).collect();
    let mut plan = Plan {
        delete_behavior: compiled.delete_behavior(),
        ..Plan::default()
    };
    for record in records {
        let Some(record_id) = record.get("id").and_then(Value::as_str).map(str::to_owned) else {
            plan.without_id += 1;
            continue;
        };
        let value = Value::Object(record);
        let lookups = compiled.lookups(&value);
        let resolution = resolve(
            store,
            &clients.smartsuite,
            smartsuite,
            connection.id,
            lookups,
        )
        .await?;
        plan.unresolved_files.extend(
            (resolution.unresolved_files.iter())
                .map(|(handle, _)| (record_id.clone(), handle.clone())),
        );
        let mapped =
            match compiled.map_record_with_id(&value, Some(&record_id), &resolution.resolvers) {
                Ok(mapped) => mapped,
                Err(e) => {
                    plan.unmappable.push((record_id, e.to_string()));
                    continue;
                }
            };
        let hash = mapped.content_hash();
        let entry = entries.get(&record_id);
        let step = match entry {
            Some(e) if e.state == IdMapState::Synced && e.webflow_item_id.is_some() => {
                let item_id = e.webflow_item_id.clone().unwrap_or_default();
                // An item deleted in Webflow since is written again (the worker recreates it).
                let present = index.items().any(|i| i.id == item_id);
                if present && e.field_data_hash.as_deref() == Some(hash.as_str()) {
                    Step::Unchanged { item_id }
                } else {
                    Step::Update { item_id }
                }
            }
            // A create of unknown outcome (the worker resolves it) or a deleted item.
            Some(_) => Step::Create,
            None => {
                let found = match compiled.match_on() {
                    MatchOn::Slug => index.by_slug(mapped.slug.as_str()),
                    MatchOn::Field(_) => compiled
                        .match_key(&value, Some(&record_id))
                        .and_then(|key| index.by_key(&key)),
                    MatchOn::None => None,
                };
                let free = |item: &&Item| {
                    !held.contains(&item.id) && item.slug().is_none_or(|s| !named.contains(s))
                };
                match found.filter(free) {
                    Some(item) => {
                        held.insert(item.id.clone());
                        let update = !holds(item, &mapped);
                        let slug = item.slug().map(str::to_owned);
                        let new_slug = (update && slug.as_deref() != Some(mapped.slug.as_str()))
                            .then(|| mapped.slug.as_str().to_owned());
                        Step::Adopt {
                            item_id: item.id.clone(),
                            slug,
                            update,
                            new_slug,
                        }
                    }
                    None => Step::Create,
                }
            }
        };
        let Value::Object(record) = value else {
            continue;
        };
        plan.records.push(Planned {
            record_id,
            record,
            step,
            hash,
        });
    }
    plan.orphans = index
        .items()
        .filter(|item| !held.contains(&item.id))
        .filter(|item| item.slug().is_none_or(|s| !named.contains(s)))
        .cloned()
        .collect();
    plan.orphans.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(plan)
}

async fn read_records(
    clients: &Clients,
    budget: &SmartSuiteBudget<'_>,
    connection: &Connection,
    page_size: u32,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Vec<Map<String, Value>>, Failure> {
    let mut records = Vec::new();
    let body = ListRecords::default();
    let mut offset = 0u64;
    loop {
        let page = budget
            .call(
                "records",
                clients.smartsuite.list_records(
                    &connection.smartsuite_table_id,
                    &body,
                    offset,
                    page_size,
                ),
            )
            .await?;
        let got = page.items.len() as u64;
        records.extend(page.items.into_iter().map(|r| r.0));
        offset += got;
        progress(offset, page.total);
        if got == 0 || offset >= page.total {
            return Ok(records);
        }
    }
}

/// What carrying out a plan did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    /// Items adopted into the id map.
    pub adopted: usize,
    /// Adoptions not made because the record, or the item, had an entry by then (the worker
    /// wrote it since the plan): the record's event is queued instead, for the worker to
    /// settle.
    pub adoptions_skipped: usize,
    /// Events queued for the worker (creates and updates).
    pub enqueued: usize,
    /// Events that were already queued with the same content (a backfill run again).
    pub already_queued: usize,
    /// Orphans the mapping's `deleteBehavior` was applied to (with `prune`).
    pub pruned: usize,
}

/// Carries out `plan`: adopts the matched items in the id map (only where neither the record
/// nor the item has an entry yet), queues an event for every record whose item needs content
/// (created or updated by the worker) in statements of `batch_size`, and, with `prune`,
/// applies the mapping's `deleteBehavior` to the orphans. Recorded in the audit log as
/// `actor`'s `backfill.applied`, with its counts.
pub async fn apply(
    store: &Store,
    connector: &Connector,
    actor: Actor,
    connection: &Connection,
    plan: &Plan,
    prune: bool,
    batch_size: usize,
) -> Result<Applied, Failure> {
    let mut applied = Applied::default();
    let mut events = Vec::new();
    let mut conn = store.get().await?;
    for planned in &plan.records {
        let key = RecordKey::smartsuite(connection.id, &planned.record_id);
        match &planned.step {
            Step::Adopt {
                item_id,
                slug,
                update,
                ..
            } => {
                let hash = (!update).then_some(planned.hash.as_str());
                let adopted = id_map::adopt(&mut conn, key, item_id, slug.as_deref(), hash).await?;
                if adopted {
                    applied.adopted += 1;
                } else {
                    applied.adoptions_skipped += 1;
                }
                if *update || !adopted {
                    events.push(record_event(
                        connection.id,
                        &planned.record_id,
                        &planned.record,
                    ));
                }
            }
            Step::Create | Step::Update { .. } => {
                events.push(record_event(
                    connection.id,
                    &planned.record_id,
                    &planned.record,
                ));
            }
            Step::Unchanged { .. } => {}
        }
    }
    for chunk in events.chunks(batch_size.max(1)) {
        for outcome in enqueue_many(&mut conn, chunk).await? {
            if outcome.is_duplicate() {
                applied.already_queued += 1;
            } else {
                applied.enqueued += 1;
            }
        }
    }
    drop(conn);
    if prune && !plan.orphans.is_empty() {
        applied.pruned = prune::prune_orphans(store, connector, connection, plan).await?;
    }
    let details = serde_json::to_value(applied).unwrap_or_default();
    admin::record(
        store,
        actor,
        "backfill.applied",
        Some(connection.id),
        &details,
    )
    .await;
    Ok(applied)
}

/// The event for one record; its payload has the shape of a signed push. The idempotency key
/// is the record id plus a hash of the record's content, so running a backfill again skips
/// the records it already queued unchanged.
pub fn record_event(
    connection: ConnectionId,
    record_id: &str,
    record: &Map<String, Value>,
) -> NewEvent {
    let hash = suiteflow_mapper::content_hash(record);
    let key = format!("backfill:{record_id}:{hash}");
    let mut event =
        NewEvent::record(connection, record_id, BACKFILL_EVENT_TYPE, key).with_payload(json!({
            "event_type": BACKFILL_EVENT_TYPE,
            "record_id": record_id,
            "data": Value::Object(record.clone()),
            "source": "backfill",
        }));
    event.payload_hash = Some(hash);
    event
}
