//! `suiteflow backfill <connection>`: every SmartSuite record of the table becomes a `record`
//! event. The idempotency key is the record id plus a hash of the record's content, so a second
//! run skips records that have not changed (as duplicates) and a run that was interrupted
//! resumes where it stopped.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Map, Value, json};
use suiteflow_smartsuite_client::ListRecords;
use suiteflow_store::queue::{NewEvent, enqueue_many};
use suiteflow_store::{ConnectionId, ConnectionStatus};

use crate::error::{CliResult, ResultExt as _, refused};
use crate::output::print_json;
use crate::{BackfillArgs, CommandContext};

/// `event_type` of backfilled events: an upsert, like a push's `record_updated`.
pub const BACKFILL_EVENT_TYPE: &str = "record_updated";

/// The idempotency key of a backfilled record: `backfill:<record id>:<content hash>`.
pub fn idempotency_key(record_id: &str, record: &Map<String, Value>) -> String {
    format!(
        "backfill:{record_id}:{}",
        suiteflow_mapper::content_hash(record)
    )
}

/// The event for one record; its payload has the shape of a signed push.
pub fn record_event(
    connection: ConnectionId,
    record_id: &str,
    record: Map<String, Value>,
) -> NewEvent {
    let key = idempotency_key(record_id, &record);
    let hash = suiteflow_mapper::content_hash(&record);
    let mut event =
        NewEvent::record(connection, record_id, BACKFILL_EVENT_TYPE, key).with_payload(json!({
            "event_type": BACKFILL_EVENT_TYPE,
            "record_id": record_id,
            "data": Value::Object(record),
            "source": "backfill",
        }));
    event.payload_hash = Some(hash);
    event
}

pub async fn run(ctx: &CommandContext, args: BackfillArgs) -> CliResult {
    let connection = ctx.connection(&args.connection).await?;
    if connection.status == ConnectionStatus::Archived {
        return Err(refused(format!("connection {} is archived", connection.id)));
    }
    let client = ctx.smartsuite(&connection)?;
    let table = connection.smartsuite_table_id.clone();
    let body = ListRecords::default();

    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} backfill [{bar:40}] {pos}/{len} records ({per_sec}, eta {eta}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );

    let (mut records, mut enqueued, mut unchanged, mut skipped) = (0u64, 0u64, 0u64, 0u64);
    let mut offset = 0u64;
    loop {
        let page = client
            .list_records(&table, &body, offset, args.page_size)
            .await
            .or_fail(format!(
                "listing SmartSuite records of table {table} (offset {offset})"
            ))?;
        bar.set_length(page.total);
        let got = page.items.len() as u64;
        let mut batch: Vec<NewEvent> = Vec::new();
        for record in page.items {
            let Some(id) = record.id().map(str::to_owned) else {
                skipped += 1;
                continue;
            };
            batch.push(record_event(connection.id, &id, record.0));
        }
        for chunk in batch.chunks(args.batch_size as usize) {
            let mut db = ctx.db().await?;
            let outcomes = enqueue_many(&mut db, chunk)
                .await
                .or_fail("enqueueing records")?;
            for outcome in outcomes {
                if outcome.is_duplicate() {
                    unchanged += 1;
                } else {
                    enqueued += 1;
                }
            }
            records += chunk.len() as u64;
            bar.set_position(records + skipped);
            bar.set_message(format!("{enqueued} enqueued, {unchanged} unchanged"));
        }
        offset += got;
        if got == 0 || offset >= page.total {
            break;
        }
    }
    bar.finish_and_clear();

    if ctx.json {
        print_json(&json!({
            "connectionId": connection.id,
            "records": records,
            "enqueued": enqueued,
            "unchanged": unchanged,
            "skippedWithoutId": skipped,
        }));
    } else {
        println!(
            "backfill of connection {}: {records} records, {enqueued} enqueued, {unchanged} unchanged (already enqueued)",
            connection.id
        );
        if skipped > 0 {
            println!("{skipped} records had no id and were skipped");
        }
        if connection.status != ConnectionStatus::Active {
            println!(
                "note: the connection is {}; its events wait until it is resumed",
                connection.status
            );
        }
    }
    Ok(())
}
