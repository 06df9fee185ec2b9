//! Prepare: an event's record mapped to the item Webflow should hold, or the news that the
//! record is gone. A push carries its record; the records of a pull's events are read from
//! SmartSuite together, up to 100 in one `records/list` call filtered by id, not one call each.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use suiteflow_mapper::WarningKind;
use suiteflow_smartsuite_client::ListRecords;
use suiteflow_store::Event;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Batch, Write};
use crate::failure::{Failure, Wait, after};
use crate::resolve::resolve;

/// How long events of a connection without a mapping wait before they are looked at again.
const NO_MAPPING_WAIT: Duration = Duration::from_secs(60);
/// Records read in one `records/list` call.
const RECORDS_PER_READ: usize = 100;

/// The records read for events that do not carry theirs, by id; or why they could not be read.
pub(super) type Fetched = Result<HashMap<String, Value>, Failure>;

/// The record an event carries (a push's `data`).
fn carried(event: &Event) -> Option<&serde_json::Map<String, Value>> {
    match event.payload.get("data") {
        Some(Value::Object(data)) if !data.is_empty() => Some(data),
        _ => None,
    }
}

/// The record's last-modified time: SmartSuite's `last_updated.on`.
pub(crate) fn modified_at(record: &Value) -> Option<OffsetDateTime> {
    let on = record.pointer("/last_updated/on")?.as_str()?;
    OffsetDateTime::parse(on, &Rfc3339).ok()
}

impl<'a> Batch<'a> {
    /// Reads the records of the events that do not carry theirs (a pull's), in lists filtered
    /// by id. A record SmartSuite does not list is gone.
    pub(super) async fn fetch_records(&self, events: &[Event]) -> Fetched {
        let mut ids: Vec<&str> = events
            .iter()
            .filter(|e| e.event_type != "record_deleted" && carried(e).is_none())
            .map(|e| e.external_id.as_str())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut records = HashMap::new();
        for chunk in ids.chunks(RECORDS_PER_READ) {
            let conditions: Vec<Value> = chunk
                .iter()
                .map(|id| json!({"field": "id", "comparison": "is", "value": id}))
                .collect();
            let query = ListRecords {
                filter: Some(json!({"operator": "or", "fields": conditions})),
                ..ListRecords::default()
            };
            let limit = u32::try_from(chunk.len()).unwrap_or(u32::MAX);
            let page = self
                .smartsuite
                .call(
                    "records",
                    self.ctx
                        .smartsuite
                        .list_records(self.ctx.table_id(), &query, 0, limit),
                )
                .await?;
            for record in page.items {
                if let Some(id) = record.id().map(str::to_owned) {
                    records.insert(id, Value::Object(record.0));
                }
            }
        }
        Ok(records)
    }

    /// Maps the event's record. `Ok(None)`: the record is gone, delete its item.
    pub(super) async fn prepare(
        &self,
        event: &'a Event,
        fetched: &Fetched,
    ) -> Result<Option<Write<'a>>, Failure> {
        let Some(mapping) = &self.ctx.mapping else {
            // A person must set a mapping: keep the event without spending attempts.
            return Err(Failure::reschedule(
                after(NO_MAPPING_WAIT),
                Wait::Mapping,
                "the connection has no mapping yet (`suiteflow mapping set`)",
            ));
        };
        if event.event_type == "record_deleted" {
            return Ok(None);
        }
        let record = match carried(event) {
            Some(data) => Value::Object(data.clone()),
            None => match fetched {
                Ok(records) => match records.get(&event.external_id) {
                    Some(record) => record.clone(),
                    None => return Ok(None),
                },
                Err(failure) => return Err(failure.clone()),
            },
        };
        let soft_deleted = record
            .pointer("/deleted_date/date")
            .is_some_and(|d| !d.is_null());
        if soft_deleted {
            return Ok(None);
        }
        let resolution = resolve(
            self.store,
            &self.ctx.smartsuite,
            &self.smartsuite,
            self.ctx.id(),
            mapping.lookups(&record),
        )
        .await?;
        if let Some((_, failure)) = resolution.unresolved_files.into_iter().next() {
            return Err(failure);
        }
        let item =
            mapping.map_record_with_id(&record, Some(&event.external_id), &resolution.resolvers)?;
        // A choice or an option the schemas do not know may be new: read them again first.
        if !self.ctx.fresh
            && let Some(unknown) = item.warnings.iter().find(|w| {
                matches!(
                    w.kind,
                    WarningKind::UnknownChoice { .. } | WarningKind::UnknownOption { .. }
                )
            })
        {
            return Err(Failure::drift(format!(
                "{unknown}: the schemas are read again before the record is written"
            )));
        }
        let hash = item.content_hash();
        Ok(Some(Write {
            event,
            hash,
            match_key: mapping.match_key(&record, Some(&event.external_id)),
            earlier_create: None,
            pending_links: resolution.pending_links,
            files: mapping
                .file_targets()
                .filter_map(|field| {
                    let value = item.field_data.get(field)?;
                    Some((field.to_string(), value.clone()))
                })
                .collect(),
            sent_files: None,
            modified_at: modified_at(&record),
            item,
        }))
    }
}
