//! Links that resolve later: a record written while a record it links to has no Webflow item
//! yet is a partial success (its warning says which link), and the link is remembered
//! (`pending_links`). When the target's item is written, the records waiting for it are queued
//! again (read afresh from SmartSuite), so the reference fills in without an operator.

use std::collections::HashMap;

use serde_json::json;
use suiteflow_store::id_map::{self, SMARTSUITE};
use suiteflow_store::{ConnectionId, EventId, IdMapState, NewEvent, StoreError};

use super::Batch;
use crate::outcome::Outcome;

/// What one event of the batch left its record waiting for.
pub(super) struct Links {
    pub event: EventId,
    pub record: String,
    /// The links without an item, as (connection, record); empty for a record that waits for
    /// nothing (or was deleted).
    pub targets: Vec<(ConnectionId, String)>,
    /// The record was written (not deleted): records waiting for it can be filled in.
    pub written: bool,
}

impl Batch<'_> {
    /// Records what each written record waits for, and queues again the records that were
    /// waiting for one written now. A failure here is logged: the writes stand, and a link
    /// fills in with its record's next change.
    pub(super) async fn settle_links(&mut self) {
        if let Err(e) = self.settle_links_or_fail().await {
            tracing::warn!(connection_id = %self.ctx.id().0, error = %e, "could not record the links that wait for their record");
        }
    }

    async fn settle_links_or_fail(&mut self) -> Result<(), StoreError> {
        let done: HashMap<EventId, Option<&str>> = self
            .outcomes
            .iter()
            .filter_map(|(id, outcome)| match outcome {
                Outcome::Done {
                    webflow_item_id, ..
                } => Some((*id, webflow_item_id.as_deref())),
                _ => None,
            })
            .collect();
        let connection = self.ctx.id();
        let mut conn = self.store.get().await?;
        let mut requeue: Vec<NewEvent> = Vec::new();
        let mut items: HashMap<&str, &str> = HashMap::new();
        let finished: Vec<&Links> = self
            .links
            .iter()
            .filter(|l| done.contains_key(&l.event))
            .collect();
        for links in &finished {
            suiteflow_store::set_pending_links(
                &mut conn,
                connection,
                &links.record,
                &links.targets,
            )
            .await?;
            if links.written
                && let Some(Some(item)) = done.get(&links.event)
            {
                items.insert(&links.record, item);
            }
        }
        // Targets written by another worker since these records were mapped: their items, read
        // with one query per target connection.
        let mut targets: HashMap<ConnectionId, Vec<&str>> = HashMap::new();
        for (target_connection, target) in finished.iter().flat_map(|l| &l.targets) {
            targets
                .entry(*target_connection)
                .or_default()
                .push(target.as_str());
        }
        let mut synced: HashMap<(ConnectionId, String), String> = HashMap::new();
        for (target_connection, ids) in targets {
            for entry in id_map::lookup_many(&mut conn, target_connection, SMARTSUITE, &ids).await?
            {
                if entry.state == IdMapState::Synced
                    && let Some(item) = entry.webflow_item_id
                {
                    synced.insert((target_connection, entry.external_id), item);
                }
            }
        }
        for links in &finished {
            for (target_connection, target) in &links.targets {
                if let Some(item) = synced.get(&(*target_connection, target.clone())) {
                    requeue.push(relink(connection, &links.record, item));
                }
            }
        }
        let written: Vec<&str> = items.keys().copied().collect();
        for ((source_connection, source), target) in
            suiteflow_store::take_waiting_for(&mut conn, connection, &written).await?
        {
            let item = items.get(target.as_str()).copied().unwrap_or_default();
            requeue.push(relink(source_connection, &source, item));
        }
        if !requeue.is_empty() {
            tracing::info!(connection_id = %connection.0, records = requeue.len(), "queued again: records whose links can now be filled in");
            suiteflow_store::queue::enqueue_many(&mut conn, &requeue).await?;
        }
        Ok(())
    }
}

/// The event that writes `record` of `connection` again now that the item `item` it links to
/// exists: without data, so the record is read afresh. Keyed by the item, so one creation
/// queues each waiting record once.
fn relink(connection: ConnectionId, record: &str, item: &str) -> NewEvent {
    NewEvent::record(
        connection,
        record,
        "record_updated",
        format!("link:{item}:{record}"),
    )
    .with_payload(json!({"event_type": "record_updated", "record_id": record, "source": "link"}))
}
