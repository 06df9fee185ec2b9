//! `suiteflow events …`

use serde_json::{Value, json};
use suiteflow_store::{AsyncPgConnection, Event, EventId, EventStatus};

use crate::commands::connection::admin_error;
use crate::error::{CliResult, ResultExt as _, refused};
use crate::output::{event_json, print_json, print_table, timestamp, truncate};
use crate::{CommandContext, EventsCommand, StatusArg};
use suiteflow_sync::admin::{self, Actor};

pub async fn run(ctx: &CommandContext, command: EventsCommand) -> CliResult {
    match command {
        EventsCommand::List {
            status,
            connection,
            partial,
            limit,
        } => list(ctx, status, connection.as_deref(), partial, limit).await,
        EventsCommand::Show { id } => show(ctx, &id).await,
        EventsCommand::Replay { id: Some(id), .. } => replay_one(ctx, &id).await,
        EventsCommand::Replay {
            id: None,
            connection,
            ..
        } => replay_dead_letters(ctx, connection.as_deref()).await,
    }
}

fn status_of(arg: StatusArg) -> EventStatus {
    match arg {
        StatusArg::Queued => EventStatus::Queued,
        StatusArg::Processing => EventStatus::Processing,
        StatusArg::Success => EventStatus::Success,
        StatusArg::Failed => EventStatus::Failed,
        StatusArg::DeadLetter => EventStatus::DeadLetter,
        StatusArg::Skipped => EventStatus::Skipped,
    }
}

/// The first of a partial success's warnings.
fn first_warning(event: &Event) -> Option<String> {
    let warnings = event.warnings.as_ref()?.as_array()?;
    let first = warnings.first()?;
    Some(
        first
            .as_str()
            .map_or_else(|| first.to_string(), str::to_owned),
    )
}

fn parse_event_id(text: &str) -> CliResult<EventId> {
    text.trim()
        .parse::<EventId>()
        .map_err(|_| refused(format!("unknown event {text} (not an event id)")))
}

/// The event `id` names; refused when it is not an event id or no such event exists.
async fn load_event(db: &mut AsyncPgConnection, id: &str) -> CliResult<Event> {
    let event_id = parse_event_id(id)?;
    suiteflow_store::queue::get_event(db, event_id)
        .await
        .or_fail("loading the event")?
        .ok_or_else(|| refused(format!("unknown event {id}")))
}

async fn list(
    ctx: &CommandContext,
    status: Option<StatusArg>,
    connection: Option<&str>,
    partial: bool,
    limit: i64,
) -> CliResult {
    let connection = match connection {
        Some(reference) => Some(ctx.connection(reference).await?.id),
        None => None,
    };
    let mut db = ctx.db().await?;
    let filter = suiteflow_store::queue::EventFilter {
        status: status.map(status_of),
        connection,
        partial,
        limit,
        ..suiteflow_store::queue::EventFilter::default()
    };
    let events = suiteflow_store::queue::list_events(&mut db, &filter)
        .await
        .or_fail("listing events")?;
    if ctx.json {
        print_json(&Value::Array(
            events.iter().map(|e| event_json(e, false)).collect(),
        ));
        return Ok(());
    }
    if events.is_empty() {
        println!("no events");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            vec![
                e.id.to_string(),
                e.status.to_string(),
                e.kind.to_string(),
                e.event_type.clone(),
                truncate(&e.external_id, 26),
                e.attempts.to_string(),
                timestamp(e.queued_at),
                match (&e.error, first_warning(e)) {
                    (Some(message), _) => truncate(message, 50),
                    (None, Some(warning)) => truncate(&format!("partial: {warning}"), 50),
                    (None, None) => String::new(),
                },
            ]
        })
        .collect();
    print_table(
        &[
            "ID", "STATUS", "KIND", "TYPE", "RECORD", "ATTEMPTS", "QUEUED", "ERROR",
        ],
        &rows,
    );
    Ok(())
}

async fn show(ctx: &CommandContext, id: &str) -> CliResult {
    let mut db = ctx.db().await?;
    let event = load_event(&mut db, id).await?;
    let value = event_json(&event, true);
    if ctx.json {
        print_json(&value);
        return Ok(());
    }
    if let Value::Object(map) = &value {
        for (key, v) in map {
            match v {
                Value::Null => println!("{key:<18} -"),
                Value::String(s) => println!("{key:<18} {s}"),
                Value::Object(_) | Value::Array(_) => {
                    println!(
                        "{key:<18} {}",
                        serde_json::to_string_pretty(v).unwrap_or_default()
                    )
                }
                other => println!("{key:<18} {other}"),
            }
        }
    }
    Ok(())
}

async fn replay_one(ctx: &CommandContext, id: &str) -> CliResult {
    let event_id = parse_event_id(id)?;
    let event = admin::replay(&ctx.store, Actor::Cli, event_id)
        .await
        .map_err(admin_error)?;
    if ctx.json {
        print_json(&json!({
            "id": event_id,
            "previousStatus": event.status.as_str(),
            "status": EventStatus::Queued.as_str(),
        }));
    } else {
        println!("event {event_id} requeued (was {})", event.status);
    }
    Ok(())
}

async fn replay_dead_letters(ctx: &CommandContext, connection: Option<&str>) -> CliResult {
    let connection = match connection {
        Some(reference) => Some(ctx.connection(reference).await?.id),
        None => None,
    };
    let requeued = admin::replay_dead_letters(&ctx.store, Actor::Cli, connection)
        .await
        .map_err(admin_error)?;
    if ctx.json {
        print_json(&json!({ "requeued": requeued.len(), "ids": requeued }));
    } else {
        println!("{} dead-lettered event(s) requeued", requeued.len());
    }
    Ok(())
}
