//! The durable event queue: enqueue with idempotency, SKIP LOCKED claims with a lease,
//! outcomes fenced by the lease owner, and the queue's figures and retention
//! (docs/architecture.md, "The queue").
//!
//! One module per concern: [`enqueue`](enqueue()) and [`enqueue_many`] insert, [`claim`] takes
//! work, the settle functions ([`complete`], [`fail`], [`release`], [`dead_letter`]) record
//! outcomes, and the admin functions count, list, replay and purge.
//!
//! Every function takes a `&mut AsyncPgConnection` so the caller decides the transaction: a pull
//! inserts its record events and the new cursor in one transaction; the ingress inserts with
//! nothing else open.

mod admin;
mod claim;
mod enqueue;
mod settle;

use std::time::Duration;

use diesel::prelude::*;
use diesel_async::AsyncPgConnection;
use serde_json::Value;
use time::OffsetDateTime;

use crate::schema::events;
use crate::{ConnectionId, EventId, EventKind, EventStatus};

pub use admin::{
    EventFilter, FinishedInMinute, QueueStats, count_by_status, count_by_status_of,
    dead_letter_ids, finished_per_minute, get_event, list_events, purge_finished,
    purge_finished_all, queue_stats, requeue,
};
pub use claim::{Claim, budget_opens_at, claim, claim_batch};
pub use enqueue::{enqueue, enqueue_many, notify_workers};
pub use settle::{
    Settled, Settlement, complete, dead_letter, extend_leases, fail, release, settle,
};

/// The channel enqueues notify (see [`notify_workers`] and [`crate::Listener`]).
pub const EVENTS_CHANNEL: &str = "suiteflow_events";

/// How often a statement that lost a race to a concurrent one is run again.
const RACE_RETRIES: usize = 8;
/// The unique index that keeps one event of a record in flight.
const IN_FLIGHT_INDEX: &str = "events_one_in_flight_per_record";
/// The unique index that keeps one pending pull per connection.
const PENDING_PULL_INDEX: &str = "events_one_pending_pull";

/// An event to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub connection_id: ConnectionId,
    pub kind: EventKind,
    /// The SmartSuite record id (`record`) or the SmartSuite webhook id (`pull`).
    pub external_id: String,
    /// `record_created`, `record_updated`, `record_deleted`, `pull`, `keep_alive`, …
    pub event_type: String,
    /// Unique per connection; a second event with the same key is a duplicate.
    pub idempotency_key: String,
    pub payload: Value,
    pub payload_hash: Option<String>,
    pub webhook_timestamp: Option<OffsetDateTime>,
    /// W3C trace context of the request that enqueued the event.
    pub trace_context: Option<Value>,
}

impl NewEvent {
    /// A `record` event with an empty payload and no optional fields.
    pub fn record(
        connection_id: ConnectionId,
        external_id: impl Into<String>,
        event_type: impl Into<String>,
        idempotency_key: impl Into<String>,
    ) -> Self {
        Self {
            connection_id,
            kind: EventKind::Record,
            external_id: external_id.into(),
            event_type: event_type.into(),
            idempotency_key: idempotency_key.into(),
            payload: Value::Object(serde_json::Map::new()),
            payload_hash: None,
            webhook_timestamp: None,
            trace_context: None,
        }
    }

    /// A `pull` event for SmartSuite webhook `webhook_id`.
    pub fn pull(
        connection_id: ConnectionId,
        webhook_id: impl Into<String>,
        idempotency_key: impl Into<String>,
    ) -> Self {
        Self {
            kind: EventKind::Pull,
            ..Self::record(connection_id, webhook_id, "pull", idempotency_key)
        }
    }

    /// The same event with `payload`.
    pub fn with_payload(mut self, payload: Value) -> Self {
        self.payload = payload;
        self
    }
}

/// What [`enqueue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new event was inserted.
    Inserted(EventId),
    /// Nothing was inserted: the event duplicates this one (same idempotency key, or the
    /// connection's pending pull).
    Duplicate(EventId),
}

impl Enqueued {
    /// The new event's id, or the original's.
    pub fn id(self) -> EventId {
        match self {
            Self::Inserted(id) | Self::Duplicate(id) => id,
        }
    }

    pub fn is_duplicate(self) -> bool {
        matches!(self, Self::Duplicate(_))
    }
}

/// A row of `events`.
#[derive(Debug, Clone, PartialEq, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = events, check_for_backend(diesel::pg::Pg))]
pub struct Event {
    pub id: EventId,
    pub seq: i64,
    pub connection_id: ConnectionId,
    pub kind: EventKind,
    pub external_id: String,
    pub event_type: String,
    pub idempotency_key: String,
    pub payload: Value,
    pub payload_hash: Option<String>,
    pub status: EventStatus,
    /// Claims so far, including the current one.
    pub attempts: i32,
    pub retry_after: Option<OffsetDateTime>,
    pub locked_by: Option<String>,
    pub lease_expires_at: Option<OffsetDateTime>,
    pub error: Option<String>,
    pub warnings: Option<Value>,
    pub partial_success: bool,
    pub webflow_item_id: Option<String>,
    pub webflow_response: Option<Value>,
    pub queued_at: OffsetDateTime,
    pub started_at: Option<OffsetDateTime>,
    pub processed_at: Option<OffsetDateTime>,
    pub duration_ms: Option<i64>,
    pub webhook_timestamp: Option<OffsetDateTime>,
    pub trace_context: Option<Value>,
    /// Why the event failed, as data: the API's status, code and details, the mapper's
    /// warnings (what `error` says in words).
    pub error_detail: Option<Value>,
}

/// What a successful event leaves behind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Completion {
    pub webflow_item_id: Option<String>,
    pub webflow_response: Option<Value>,
    /// Fields that failed to map (partial success).
    pub warnings: Vec<String>,
}

/// Why an event did not succeed, as it is stored: `error` in words and `error_detail` as data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventError<'a> {
    pub message: &'a str,
    pub detail: Option<&'a Value>,
}

impl<'a> EventError<'a> {
    /// An error in words only.
    pub fn text(message: &'a str) -> Self {
        Self {
            message,
            detail: None,
        }
    }
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Whether the caller has a transaction open on `conn`.
fn in_transaction(conn: &mut AsyncPgConnection) -> bool {
    use diesel_async::TransactionManager as _;
    !matches!(
        diesel_async::AnsiTransactionManager::transaction_manager_status_mut(conn)
            .transaction_depth(),
        Ok(None)
    )
}
