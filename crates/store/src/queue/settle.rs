//! Recording outcomes: [`settle`] writes a batch's in one statement, each fenced by the lease (it
//! changes an event only while `worker` still holds it, so a worker whose lease was taken over
//! cannot overwrite the new owner's result). `complete`, `fail`, `release` and `dead_letter` are
//! the same statement for one event.

use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{Array, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use time::OffsetDateTime;

use super::{Completion, EventError, PENDING_PULL_INDEX, RACE_RETRIES, duration_ms};
use crate::error::is_retryable_race;
use crate::prepared::prepared;
use crate::schema::{events, sql_types};
use crate::{EventId, EventStatus, StoreError};

const SETTLE_SQL: &str = include_str!("settle_many.sql");

/// The fence of every outcome: the event is still `processing` under `worker`'s lease.
fn held_by(
    worker: &str,
) -> diesel::dsl::And<
    diesel::dsl::Eq<events::locked_by, &str>,
    diesel::dsl::Eq<events::status, EventStatus>,
> {
    events::locked_by
        .eq(worker)
        .and(events::status.eq(EventStatus::Processing))
}

/// Records success for an event `worker` holds. [`StoreError::LeaseLost`] (and no change) when
/// another worker took the event over. [`settle`] of one event, so it may run inside the
/// caller's transaction (a success never races the pending-pull index).
pub async fn complete(
    conn: &mut AsyncPgConnection,
    worker: &str,
    id: EventId,
    completion: &Completion,
) -> Result<(), StoreError> {
    settle_one(conn, worker, id, Settlement::Complete(completion.clone()))
        .await
        .map(drop)
}

/// Moves an event `worker` holds to `dead_letter`, keeping its error ([`settle`] of one event).
pub async fn dead_letter(
    conn: &mut AsyncPgConnection,
    worker: &str,
    id: EventId,
    error: &EventError<'_>,
) -> Result<(), StoreError> {
    let settlement = Settlement::DeadLetter {
        message: error.message.to_string(),
        detail: error.detail.cloned(),
    };
    settle_one(conn, worker, id, settlement).await.map(drop)
}

/// Records a retryable failure of an event `worker` holds: `failed`, claimable again from
/// `retry_after`. Returns the status set: `Failed`, or `Skipped` for a pull superseded by a
/// newer pending pull of its connection ([`settle`] of one event).
pub async fn fail(
    conn: &mut AsyncPgConnection,
    worker: &str,
    id: EventId,
    error: &EventError<'_>,
    retry_after: OffsetDateTime,
) -> Result<EventStatus, StoreError> {
    let settlement = Settlement::Fail {
        message: error.message.to_string(),
        detail: error.detail.cloned(),
        retry_after,
    };
    settle_one(conn, worker, id, settlement).await
}

/// Puts an event `worker` holds back in the queue without spending an attempt (a 429, a
/// shutdown, a connection put in `error`): `queued`, claimable from `retry_after` if given.
/// `why`, when given, replaces the event's error, so a waiting event says what it waits for.
/// Returns `Queued`, or `Skipped` for a pull superseded by a newer pending pull ([`settle`] of
/// one event).
pub async fn release(
    conn: &mut AsyncPgConnection,
    worker: &str,
    id: EventId,
    retry_after: Option<OffsetDateTime>,
    why: Option<&EventError<'_>>,
) -> Result<EventStatus, StoreError> {
    let settlement = Settlement::Release {
        why: why.map(|e| (e.message.to_string(), e.detail.cloned())),
        retry_after,
    };
    settle_one(conn, worker, id, settlement).await
}

/// [`settle`] of one event: the status it now has, or [`StoreError::LeaseLost`].
async fn settle_one(
    conn: &mut AsyncPgConnection,
    worker: &str,
    id: EventId,
    settlement: Settlement,
) -> Result<EventStatus, StoreError> {
    settle(conn, worker, &[(id, settlement)])
        .await?
        .status(id)
        .ok_or(StoreError::LeaseLost { event: id })
}

/// What became of one event of a batch, for [`settle`].
#[derive(Debug, Clone, PartialEq)]
pub enum Settlement {
    /// Written (or nothing needed writing): `success`.
    Complete(Completion),
    /// Nothing to write, for `reason` (kept in `error`): `skipped`.
    Skip { reason: String },
    /// No attempt left, or an error no retry can fix: `dead_letter`.
    DeadLetter {
        message: String,
        detail: Option<Value>,
    },
    /// A retryable failure: `failed`, claimable again from `retry_after`.
    Fail {
        message: String,
        detail: Option<Value>,
        retry_after: OffsetDateTime,
    },
    /// Back in the queue without spending an attempt (a budget spent, a connection stopped):
    /// `queued`, from `retry_after` when given. `why` replaces the event's error when given.
    Release {
        why: Option<(String, Option<Value>)>,
        retry_after: Option<OffsetDateTime>,
    },
}

/// What [`settle`] did: the status each event now has. An event of the batch that is not here
/// was not changed: its lease was lost (another worker took it over).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settled(pub std::collections::HashMap<EventId, EventStatus>);

impl Settled {
    /// The status set for `id`; `None` when its lease was lost.
    pub fn status(&self, id: EventId) -> Option<EventStatus> {
        self.0.get(&id).copied()
    }
}

#[derive(QueryableByName)]
struct SettledRow {
    #[diesel(sql_type = SqlUuid)]
    id: uuid::Uuid,
    #[diesel(sql_type = sql_types::EventStatus)]
    status: EventStatus,
}

/// Records the outcomes of a batch of events `worker` holds in one statement (the worker's
/// path): successes, skips, dead letters, failures with their retry time and releases, each
/// fenced by the lease, so a lost lease leaves only its own row unchanged. A pull given back
/// while its connection has another pending pull is `skipped` instead.
pub async fn settle(
    conn: &mut AsyncPgConnection,
    worker: &str,
    outcomes: &[(EventId, Settlement)],
) -> Result<Settled, StoreError> {
    if outcomes.is_empty() {
        return Ok(Settled::default());
    }
    // One array per column of settle_many.sql, an element per event.
    let n = outcomes.len();
    let mut ids = Vec::with_capacity(n);
    let mut statuses = Vec::with_capacity(n);
    let mut errors: Vec<Option<&str>> = Vec::with_capacity(n);
    let mut details: Vec<Option<&Value>> = Vec::with_capacity(n);
    let mut retry_afters: Vec<Option<OffsetDateTime>> = Vec::with_capacity(n);
    let mut warnings: Vec<Option<Value>> = Vec::with_capacity(n);
    let mut items: Vec<Option<&str>> = Vec::with_capacity(n);
    let mut responses: Vec<Option<&Value>> = Vec::with_capacity(n);
    for (id, outcome) in outcomes {
        let (status, error, detail, retry_after, completion) = match outcome {
            Settlement::Complete(c) => (EventStatus::Success, None, None, None, Some(c)),
            Settlement::Skip { reason } => (
                EventStatus::Skipped,
                Some(reason.as_str()),
                None,
                None,
                None,
            ),
            Settlement::DeadLetter { message, detail } => (
                EventStatus::DeadLetter,
                Some(message.as_str()),
                detail.as_ref(),
                None,
                None,
            ),
            Settlement::Fail {
                message,
                detail,
                retry_after,
            } => (
                EventStatus::Failed,
                Some(message.as_str()),
                detail.as_ref(),
                Some(*retry_after),
                None,
            ),
            Settlement::Release { why, retry_after } => (
                EventStatus::Queued,
                why.as_ref().map(|(m, _)| m.as_str()),
                why.as_ref().and_then(|(_, d)| d.as_ref()),
                *retry_after,
                None,
            ),
        };
        ids.push(id.0);
        statuses.push(status.as_str());
        errors.push(error);
        details.push(detail);
        retry_afters.push(retry_after);
        warnings.push(
            completion
                .filter(|c| !c.warnings.is_empty())
                .map(|c| Value::from(c.warnings.clone())),
        );
        items.push(completion.and_then(|c| c.webflow_item_id.as_deref()));
        responses.push(completion.and_then(|c| c.webflow_response.as_ref()));
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        // One statement, no transaction of its own (one round trip): a race lost inside a
        // caller's transaction would abort it, so the worker calls it outside one.
        let result: Result<Vec<SettledRow>, diesel::result::Error> = prepared(SETTLE_SQL)
            .bind::<Text, _>(worker)
            .bind::<Array<SqlUuid>, _>(&ids)
            .bind::<Array<Text>, _>(&statuses)
            .bind::<Array<Nullable<Text>>, _>(&errors)
            .bind::<Array<Nullable<Jsonb>>, _>(&details)
            .bind::<Array<Nullable<Timestamptz>>, _>(&retry_afters)
            .bind::<Array<Nullable<Jsonb>>, _>(&warnings)
            .bind::<Array<Nullable<Text>>, _>(&items)
            .bind::<Array<Nullable<Jsonb>>, _>(&responses)
            .load(conn)
            .await;
        match result {
            Ok(rows) => {
                return Ok(Settled(
                    rows.into_iter()
                        .map(|r| (EventId(r.id), r.status))
                        .collect(),
                ));
            }
            // A pull was enqueued for a connection after this statement's snapshot.
            Err(e) if attempt < RACE_RETRIES && is_retryable_race(&e, PENDING_PULL_INDEX) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Extends to `lease` from now the leases `worker` still holds among `ids` (a batch that is
/// still being worked on), in one statement. Returns how many it extended: an event whose
/// lease was lost is not among them.
pub async fn extend_leases(
    conn: &mut AsyncPgConnection,
    worker: &str,
    ids: &[EventId],
    lease: Duration,
) -> Result<usize, StoreError> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|id| id.0).collect();
    Ok(diesel::update(
        events::table
            .filter(events::id.eq_any(ids))
            .filter(held_by(worker)),
    )
    .set(
        events::lease_expires_at.eq(diesel::dsl::sql::<Nullable<Timestamptz>>(&format!(
            "now() + interval '{} milliseconds'",
            duration_ms(lease)
        ))),
    )
    .execute(conn)
    .await?)
}
