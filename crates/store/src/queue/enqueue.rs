//! Inserting events: one at a time (the ingress) or many in one statement (pulls, backfills,
//! keep-alives), each deduplicated by its idempotency key, with a NOTIFY for waiting workers.

use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Int8, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{Enqueued, NewEvent, RACE_RETRIES, in_transaction};
use crate::prepared::prepared;
use crate::{EventId, EventKind, StoreError};

const ENQUEUE_SQL: &str = include_str!("enqueue.sql");
const ENQUEUE_MANY_SQL: &str = include_str!("enqueue_many.sql");

#[derive(QueryableByName)]
struct EnqueueRow {
    #[diesel(sql_type = SqlUuid)]
    id: EventId,
    #[diesel(sql_type = Bool)]
    inserted: bool,
}

/// Inserts `event` unless it duplicates an existing one, in one round trip (the insert and a
/// pipelined NOTIFY for waiting workers, see [`notify_workers`]).
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    event: &NewEvent,
) -> Result<Enqueued, StoreError> {
    let notify = notify_sql(conn);
    for round in 0..RACE_RETRIES {
        let insert = prepared(ENQUEUE_SQL)
            .bind::<SqlUuid, _>(event.connection_id)
            .bind::<Text, _>(event.kind.as_str())
            .bind::<Text, _>(&event.external_id)
            .bind::<Text, _>(&event.event_type)
            .bind::<Text, _>(&event.idempotency_key)
            .bind::<Jsonb, _>(&event.payload)
            .bind::<Nullable<Text>, _>(event.payload_hash.as_deref())
            .bind::<Nullable<Timestamptz>, _>(event.webhook_timestamp)
            .bind::<Nullable<Jsonb>, _>(event.trace_context.as_ref());
        let row: Option<EnqueueRow> = if round == 0 {
            // One round trip: the NOTIFY is pipelined behind the insert.
            let shared: &AsyncPgConnection = conn;
            let (rows, _) = tokio::try_join!(
                insert.load::<EnqueueRow>(&mut &*shared),
                prepared(notify).execute(&mut &*shared),
            )?;
            rows.into_iter().next()
        } else {
            insert.get_result(conn).await.optional()?
        };
        match row {
            Some(EnqueueRow { id, inserted: true }) => return Ok(Enqueued::Inserted(id)),
            Some(EnqueueRow {
                id,
                inserted: false,
            }) => return Ok(Enqueued::Duplicate(id)),
            // The conflicting row was committed after this statement's snapshot was taken:
            // run it again with a fresh snapshot.
            None => continue,
        }
    }
    Err(StoreError::Invalid(
        "enqueue conflicted with an event that stayed invisible".into(),
    ))
}

/// The NOTIFY sent behind an enqueue. Outside a transaction it is its own transaction, committed
/// without waiting for the WAL flush: PostgreSQL serialises the commits of notifying
/// transactions, so a NOTIFY inside every durable insert would serialise the ingress on fsync.
/// Inside the caller's transaction it is delivered when that transaction commits.
fn notify_sql(conn: &mut AsyncPgConnection) -> &'static str {
    if in_transaction(conn) {
        "SELECT pg_notify('suiteflow_events', '')"
    } else {
        "SELECT set_config('synchronous_commit', 'off', true), pg_notify('suiteflow_events', '')"
    }
}

/// Wakes waiting workers ([`crate::Listener`]); inside a transaction, when it commits.
/// [`enqueue`] and [`enqueue_many`] do this themselves.
pub async fn notify_workers(conn: &mut AsyncPgConnection) -> Result<(), StoreError> {
    prepared(notify_sql(conn)).execute(conn).await?;
    Ok(())
}

#[derive(QueryableByName)]
struct EnqueueManyRow {
    #[diesel(sql_type = Int8)]
    ord: i64,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    inserted_id: Option<EventId>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    original_id: Option<EventId>,
}

/// Inserts many events in one statement; one [`Enqueued`] per input, in input order. Within
/// the batch, a later event with the key of an earlier one is a duplicate of it.
pub async fn enqueue_many(
    conn: &mut AsyncPgConnection,
    new_events: &[NewEvent],
) -> Result<Vec<Enqueued>, StoreError> {
    if new_events.is_empty() {
        return Ok(Vec::new());
    }
    let column = |f: fn(&NewEvent) -> String| new_events.iter().map(f).collect::<Vec<_>>();
    let notify = notify_sql(conn);
    let shared: &AsyncPgConnection = conn;
    let insert = prepared(ENQUEUE_MANY_SQL)
        .bind::<Array<SqlUuid>, _>(
            new_events
                .iter()
                .map(|e| e.connection_id)
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Text>, _>(column(|e| e.kind.as_str().to_owned()))
        .bind::<Array<Text>, _>(column(|e| e.external_id.clone()))
        .bind::<Array<Text>, _>(column(|e| e.event_type.clone()))
        .bind::<Array<Text>, _>(column(|e| e.idempotency_key.clone()))
        .bind::<Array<Jsonb>, _>(
            new_events
                .iter()
                .map(|e| e.payload.clone())
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Text>>, _>(
            new_events
                .iter()
                .map(|e| e.payload_hash.clone())
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Timestamptz>>, _>(
            new_events
                .iter()
                .map(|e| e.webhook_timestamp)
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Jsonb>>, _>(
            new_events
                .iter()
                .map(|e| e.trace_context.clone())
                .collect::<Vec<_>>(),
        );
    let (rows, _) = tokio::try_join!(
        insert.load::<EnqueueManyRow>(&mut &*shared),
        prepared(notify).execute(&mut &*shared),
    )?;

    let mut results: Vec<Option<Enqueued>> = vec![None; new_events.len()];
    let mut claimed_inserts = std::collections::HashSet::new();
    for row in rows {
        let Some(index) = usize::try_from(row.ord).ok().and_then(|o| o.checked_sub(1)) else {
            continue;
        };
        let Some(slot) = results.get_mut(index) else {
            continue;
        };
        *slot = match (row.inserted_id, row.original_id) {
            // The first input carrying an inserted key inserted it; later ones duplicate it.
            (Some(id), _) if claimed_inserts.insert(id) => Some(Enqueued::Inserted(id)),
            (Some(id), _) | (None, Some(id)) => Some(Enqueued::Duplicate(id)),
            (None, None) => None,
        };
    }
    // What is left conflicted with a row this statement could not see: a pull behind another
    // pull of the same batch, or an event committed concurrently.
    for index in 0..new_events.len() {
        if results[index].is_some() {
            continue;
        }
        let event = &new_events[index];
        let earlier_pull = (event.kind == EventKind::Pull)
            .then(|| {
                (0..index).find_map(|j| match results[j] {
                    Some(Enqueued::Inserted(id))
                        if new_events[j].kind == EventKind::Pull
                            && new_events[j].connection_id == event.connection_id =>
                    {
                        Some(id)
                    }
                    _ => None,
                })
            })
            .flatten();
        results[index] = Some(match earlier_pull {
            Some(id) => Enqueued::Duplicate(id),
            None => enqueue(conn, event).await?,
        });
    }
    Ok(results.into_iter().flatten().collect())
}
