//! Plan: what each mapped record needs, by what the id map knows of it. A record whose item
//! holds the same content needs nothing; one with an item is an update; one whose earlier
//! create has an unknown outcome is resolved first ([`adopt`](super::adopt)); one the id map
//! does not know looks for the item that already holds it ([`matching`](super::matching));
//! the rest are creates.

use std::collections::HashMap;

use suiteflow_store::IdMapState;
use suiteflow_store::id_map::{self, IdMapEntry, SMARTSUITE};
use time::format_description::well_known::Rfc3339;

use super::{Batch, Write};
use crate::failure::Failure;

/// The writes of a batch, sorted.
pub(super) struct Plan<'a> {
    pub creates: Vec<Write<'a>>,
    pub updates: Vec<Update<'a>>,
}

/// A write to an existing item.
pub(super) struct Update<'a> {
    pub write: Write<'a>,
    pub item_id: String,
    /// The slug the item has now, when known (an unchanged slug is not sent again).
    pub old_slug: Option<String>,
}

/// A write whose record's earlier create has an unknown outcome, with the slug it used.
pub(super) struct Unknown<'a> {
    pub write: Write<'a>,
    pub slug: String,
}

impl<'a> Batch<'a> {
    /// Sorts `writes` into creates and updates; unchanged records finish here, and so do the
    /// writes whose id map entry could not be read.
    pub(super) async fn plan(&mut self, writes: Vec<Write<'a>>) -> Plan<'a> {
        let mut plan = Plan {
            creates: Vec::new(),
            updates: Vec::new(),
        };
        let entries = match self.entries(&writes).await {
            Ok(entries) => entries,
            Err(f) => {
                self.fail_all(writes.iter().map(|w| w.event.id), &f);
                return plan;
            }
        };
        let mut unknown = Vec::new();
        let mut fresh = Vec::new();
        for w in writes {
            let entry = entries.get(&w.event.external_id);
            if let Some(reason) = entry.and_then(|e| older(&w, e)) {
                self.finish(w.event.id, crate::Outcome::Skipped(reason));
                continue;
            }
            match entry {
                Some(e) if e.state == IdMapState::Synced && e.webflow_item_id.is_some() => {
                    let item_id = e.webflow_item_id.clone().unwrap_or_default();
                    if e.field_data_hash.as_deref() == Some(w.hash.as_str()) {
                        // Unchanged: no call.
                        let outcome = crate::Outcome::done(Some(item_id), w.warnings());
                        self.finish(w.event.id, outcome);
                    } else {
                        let mut w = w;
                        w.sent_files = e.files.as_ref().and_then(|f| f.as_object().cloned());
                        plan.updates.push(Update {
                            write: w,
                            item_id,
                            old_slug: e.slug.clone(),
                        });
                    }
                }
                Some(e) if e.state == IdMapState::Creating => {
                    let slug = e
                        .slug
                        .clone()
                        .unwrap_or_else(|| w.item.slug.as_str().to_string());
                    unknown.push(Unknown { write: w, slug });
                }
                None => fresh.push(w),
                // A record whose item was deleted: made again.
                Some(_) => plan.creates.push(w),
            }
        }
        if !unknown.is_empty() {
            self.adopt(unknown, &entries, &mut plan).await;
        }
        if !fresh.is_empty() {
            self.match_existing(fresh, &mut plan).await;
        }
        plan
    }

    /// The id map entries of the writes' records, by record id.
    async fn entries(&self, writes: &[Write<'a>]) -> Result<HashMap<String, IdMapEntry>, Failure> {
        let ids: Vec<&str> = writes
            .iter()
            .map(|w| w.event.external_id.as_str())
            .collect();
        let mut conn = self.store.get().await?;
        let entries = id_map::lookup_many(&mut conn, self.ctx.id(), SMARTSUITE, &ids).await?;
        Ok(entries
            .into_iter()
            .map(|e| (e.external_id.clone(), e))
            .collect())
    }
}

/// Why `w` must not be written, when its record is older, by the record's own clock, than the
/// state last written to its item (a replayed or late push): writing it would roll the item
/// back. Without either time there is nothing to compare, and the write goes ahead.
fn older(w: &Write<'_>, entry: &IdMapEntry) -> Option<String> {
    let (event, written) = (w.modified_at?, entry.source_modified_at?);
    let at = |t: time::OffsetDateTime| t.format(&Rfc3339).unwrap_or_else(|_| t.to_string());
    (event < written).then(|| {
        format!(
            "older than the state already written: the record was modified at {}, the item holds its state of {}",
            at(event),
            at(written)
        )
    })
}
