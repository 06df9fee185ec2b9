//! `pull` events: read SmartSuite's `ListEvents` from the stored cursor and turn every change
//! into a `record` event, inserted together with the new cursor and the pull's completion in
//! one transaction. A crash before the commit repeats the pull; the `event_id` idempotency keys
//! absorb the repeat.

use serde_json::json;
use suiteflow_smartsuite_client::WebhookEvent;
use suiteflow_store::AsyncConnection as _;
use suiteflow_store::{Completion, Event, NewEvent, Store, StoreError};

use crate::context::ConnectionContext;
use crate::failure::Failure;
use crate::outcome::Outcome;

const PAGE_SIZE: u32 = 50;

/// Pulls and, on success, completes the pull event in the same transaction as the new events
/// ([`Outcome::Recorded`]).
pub async fn pull(store: &Store, ctx: &ConnectionContext, worker: &str, event: &Event) -> Outcome {
    match run(store, ctx, worker, event).await {
        Ok(()) => Outcome::Recorded,
        Err(failure) => Outcome::Failed(failure),
    }
}

async fn run(
    store: &Store,
    ctx: &ConnectionContext,
    worker: &str,
    event: &Event,
) -> Result<(), Failure> {
    let Some(webhook_id) = ctx.connection.smartsuite_webhook_id.clone() else {
        return Err(Failure::permanent(
            "the connection has no SmartSuite webhook",
        ));
    };
    let cursor = ctx
        .connection
        .smartsuite_events_cursor
        .clone()
        .unwrap_or_default();
    let (changes, next_cursor) = list_events(ctx, store, &webhook_id, cursor).await?;

    let table = ctx.table_id().to_string();
    let new_events: Vec<NewEvent> = changes
        .iter()
        .filter_map(|change| {
            let data = change.record_event_data.as_ref()?;
            if data.table_id().is_some_and(|t| t != table) {
                return None; // another table of the same solution
            }
            let event_type = match change.kind.as_str() {
                "RECORD_CREATED" => "record_created",
                "RECORD_DELETED" => "record_deleted",
                _ => "record_updated",
            };
            // The record is read again when the event is processed: ListEvents' `data` is not
            // known to be complete, and a partial record would clear fields in Webflow.
            let payload = json!({"event_type": event_type, "record_id": data.record_id, "source": "smartsuite"});
            Some(
                NewEvent::record(event.connection_id, data.record_id.clone(), event_type, change.event_id.clone())
                    .with_payload(payload),
            )
        })
        .collect();

    let mut conn = store.get().await?;
    let connection_id = event.connection_id;
    let event_id = event.id;
    let inserted = new_events.len();
    conn.transaction::<_, StoreError, _>(async |tx| {
        suiteflow_store::queue::enqueue_many(tx, &new_events).await?;
        if !next_cursor.is_empty() {
            suiteflow_store::set_events_cursor(tx, connection_id, &next_cursor).await?;
        }
        suiteflow_store::record_keep_alive(tx, connection_id, time::OffsetDateTime::now_utc())
            .await?;
        suiteflow_store::queue::complete(tx, worker, event_id, &Completion::default()).await?;
        Ok(())
    })
    .await?;
    tracing::info!(connection_id = %connection_id.0, event_id = %event_id.0, changes = inserted, "pulled SmartSuite events");
    Ok(())
}

/// `ListEvents` page after page from `cursor` until an empty page, each page paid from the
/// key's budget; the events and the cursor to store.
async fn list_events(
    ctx: &ConnectionContext,
    store: &Store,
    webhook_id: &str,
    cursor: String,
) -> Result<(Vec<WebhookEvent>, String), Failure> {
    let budget = ctx.smartsuite_budget(store);
    let mut events = Vec::new();
    let mut token = cursor;
    loop {
        let page = budget
            .call(
                "events",
                ctx.smartsuite.list_events(webhook_id, PAGE_SIZE, &token),
            )
            .await?;
        if page.events.is_empty() {
            if !page.next_page_token.is_empty() {
                token = page.next_page_token;
            }
            return Ok((events, token));
        }
        events.extend(page.events);
        if page.next_page_token.is_empty() || page.next_page_token == token {
            return Ok((events, token));
        }
        token = page.next_page_token;
    }
}
