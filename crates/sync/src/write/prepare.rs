//! Prepare: an event's record, read when the event does not carry it, mapped to the item
//! Webflow should hold; or the news that the record is gone.

use std::time::Duration;

use serde_json::Value;
use suiteflow_smartsuite_client::Error as SmartSuiteError;
use suiteflow_store::Event;

use super::{Batch, Write};
use crate::failure::{Failure, Wait, after};
use crate::resolve::resolve;

/// How long events of a connection without a mapping wait before they are looked at again.
const NO_MAPPING_WAIT: Duration = Duration::from_secs(60);

impl<'a> Batch<'a> {
    /// Maps the event's record. `Ok(None)`: the record is gone, delete its item.
    pub(super) async fn prepare(&self, event: &'a Event) -> Result<Option<Write<'a>>, Failure> {
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
        let record = match event.payload.get("data") {
            Some(Value::Object(data)) if !data.is_empty() => Value::Object(data.clone()),
            _ => match self
                .ctx
                .smartsuite
                .get_record(self.ctx.table_id(), &event.external_id)
                .await
            {
                Ok(record) => Value::Object(record.0),
                Err(SmartSuiteError::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(e.into()),
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
            Some(&self.ctx.file_urls),
            self.ctx.id(),
            mapping.lookups(&record),
        )
        .await?;
        if let Some((_, failure)) = resolution.unresolved_files.into_iter().next() {
            return Err(failure);
        }
        let item =
            mapping.map_record_with_id(&record, Some(&event.external_id), &resolution.resolvers)?;
        let hash = item.content_hash();
        Ok(Some(Write {
            event,
            item,
            hash,
            match_key: mapping.match_key(&record, Some(&event.external_id)),
            earlier_create: None,
        }))
    }
}
