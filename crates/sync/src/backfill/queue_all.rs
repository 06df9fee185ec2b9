//! Queueing every record of a connection's table without a plan: [`queue_all`].

use suiteflow_smartsuite_client::ListRecords;
use suiteflow_store::queue::enqueue_many;
use suiteflow_store::{Connection, Store};

use super::record_event;
use crate::admin::{self, Actor};
use crate::connect::Connector;
use crate::failure::Failure;

/// How [`queue_all`] reads and queues.
#[derive(Debug, Clone, Copy)]
pub struct QueueAll {
    /// SmartSuite records read per call (up to 1,000).
    pub page_size: u32,
    /// Events inserted per statement.
    pub batch_size: usize,
    /// The operator who asked, for the audit log (`backfill.queued`); `None` for maintenance's
    /// catching up after a lost webhook, which is no operator's action.
    pub actor: Option<Actor>,
}

impl Default for QueueAll {
    fn default() -> Self {
        Self {
            page_size: 1000,
            batch_size: 200,
            actor: None,
        }
    }
}

/// What [`queue_all`] did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Queued {
    /// Records SmartSuite says the table holds.
    pub total: u64,
    /// Records read.
    pub read: u64,
    pub enqueued: u64,
    /// Records already queued with the same content (a backfill run again).
    pub already_queued: u64,
    /// Records listed without an id.
    pub without_id: u64,
}

/// Queues an event for every record of the connection's table, without planning: for a
/// connection without a mapping yet (its events wait for one), and to catch up after a
/// SmartSuite webhook was lost with its events. The worker matches what the collection holds
/// when it writes, and a record whose item already holds its content costs no Webflow call.
/// `progress` hears the counts after every page.
pub async fn queue_all(
    store: &Store,
    connector: &Connector,
    connection: &Connection,
    options: &QueueAll,
    progress: &mut (dyn FnMut(&Queued) + Send),
) -> Result<Queued, Failure> {
    let session = connector.session(store, connection)?;
    let body = ListRecords::default();
    let mut queued = Queued::default();
    loop {
        let page = session
            .smartsuite
            .call(
                "records",
                session.clients.smartsuite.list_records(
                    &connection.smartsuite_table_id,
                    &body,
                    queued.read,
                    options.page_size,
                ),
            )
            .await?;
        queued.total = page.total;
        let got = page.items.len() as u64;
        let mut events = Vec::with_capacity(page.items.len());
        for record in page.items {
            match record.id().map(str::to_owned) {
                Some(id) => events.push(record_event(connection.id, &id, &record.0)),
                None => queued.without_id += 1,
            }
        }
        let mut conn = store.get().await?;
        for chunk in events.chunks(options.batch_size.max(1)) {
            for outcome in enqueue_many(&mut conn, chunk).await? {
                if outcome.is_duplicate() {
                    queued.already_queued += 1;
                } else {
                    queued.enqueued += 1;
                }
            }
        }
        queued.read += got;
        progress(&queued);
        if got == 0 || queued.read >= page.total {
            if let Some(actor) = options.actor {
                let details = serde_json::to_value(queued).unwrap_or_default();
                admin::record(
                    store,
                    actor,
                    "backfill.queued",
                    Some(connection.id),
                    &details,
                )
                .await;
            }
            return Ok(queued);
        }
    }
}
