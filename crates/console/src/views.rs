//! What the pages show and the API returns, gathered once: the pages render these values as
//! HTML, the API as JSON (their schemas are in the OpenAPI document).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use suiteflow_store::queue::{EventFilter, FinishedInMinute};
use suiteflow_store::{
    Connection, ConnectionId, ConnectionStatus, Event, EventStatus, Store, bucket,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use crate::error::{ConsoleError, Failed};

/// Events listed per page.
pub const PAGE_SIZE: i64 = 50;
/// Recent events on a connection's page.
const RECENT_EVENTS: i64 = 20;

/// RFC 3339 text of a time.
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// The queue and the connections at a glance.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    /// Events a worker could claim now.
    pub queue_depth: i64,
    /// Age of the oldest waiting event, in seconds (none waiting: `null`).
    pub oldest_event_age_seconds: Option<u64>,
    /// Events finished in each of the last 60 minutes, oldest first.
    pub per_minute: Vec<Minute>,
    /// Connections by status.
    pub connections: BTreeMap<String, i64>,
    /// When a worker was last seen (the newest heartbeat, stopped workers' included; a running
    /// worker writes one every few seconds, idle or not). The name is kept from when it was
    /// the end of the last batch.
    pub worker_last_run: Option<String>,
    /// The workers that have not stopped cleanly (running, or gone without a word), the most
    /// recently seen first, at most 100.
    pub workers: Vec<WorkerView>,
    pub generated_at: String,
}

/// A worker, as its heartbeat shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkerView {
    /// Its name in an event's `lockedBy`.
    pub id: String,
    pub host: String,
    pub started_at: String,
    pub last_seen_at: String,
    /// Seconds since its last heartbeat.
    pub seen_seconds_ago: u64,
    /// Events of the batch in hand (0: idle).
    pub current_batch: i32,
    pub batch_started_at: Option<String>,
}

impl WorkerView {
    fn new(beat: suiteflow_store::WorkerBeat, now: OffsetDateTime) -> Self {
        Self {
            seen_seconds_ago: u64::try_from((now - beat.last_seen_at).whole_seconds()).unwrap_or(0),
            id: beat.id,
            host: beat.host,
            started_at: rfc3339(beat.started_at),
            last_seen_at: rfc3339(beat.last_seen_at),
            current_batch: beat.current_batch,
            batch_started_at: beat.batch_started_at.map(rfc3339),
        }
    }
}

/// Events finished in one minute, by outcome.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Minute {
    pub minute: String,
    pub success: i64,
    /// Written with warnings.
    pub partial: i64,
    pub skipped: i64,
    pub dead_letter: i64,
}

impl Minute {
    pub fn total(&self) -> i64 {
        self.success + self.partial + self.skipped + self.dead_letter
    }
}

/// Builds the overview (the gauges' queries; cached by the caller).
pub async fn overview(store: &Store) -> Result<Overview, Failed> {
    let mut conn = store.get().await?;
    let queue = suiteflow_store::queue::queue_stats(&mut conn).await?;
    let now = OffsetDateTime::now_utc();
    let start = now
        .replace_second(0)
        .unwrap_or(now)
        .replace_nanosecond(0)
        .unwrap_or(now)
        - time::Duration::minutes(59);
    let finished = suiteflow_store::queue::finished_per_minute(&mut conn, start).await?;
    let connections = suiteflow_store::count_connections_by_status(&mut conn)
        .await?
        .into_iter()
        .map(|(status, n)| (status.as_str().to_string(), n))
        .collect();
    let worker_last_run = suiteflow_store::worker_last_seen(&mut conn)
        .await?
        .map(rfc3339);
    let workers = suiteflow_store::running_workers(&mut conn).await?;
    let workers = workers
        .into_iter()
        .map(|beat| WorkerView::new(beat, now))
        .collect();
    Ok(Overview {
        queue_depth: queue.depth,
        oldest_event_age_seconds: queue.oldest_age.map(|d| d.as_secs()),
        per_minute: minutes(start, &finished),
        connections,
        worker_last_run,
        workers,
        generated_at: rfc3339(now),
    })
}

/// Sixty bars from `start`, a minute each, empty ones included.
fn minutes(start: OffsetDateTime, finished: &[FinishedInMinute]) -> Vec<Minute> {
    (0..60)
        .map(|i| {
            let at = start + time::Duration::minutes(i);
            let mut bar = Minute {
                minute: rfc3339(at),
                ..Minute::default()
            };
            for f in finished.iter().filter(|f| f.minute == at) {
                match (f.status, f.partial) {
                    (EventStatus::Success, true) => bar.partial += f.events,
                    (EventStatus::Success, false) => bar.success += f.events,
                    (EventStatus::Skipped, _) => bar.skipped += f.events,
                    (EventStatus::DeadLetter, _) => bar.dead_letter += f.events,
                    _ => {}
                }
            }
            bar
        })
        .collect()
}

/// A connection as the list shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionSummary {
    #[schema(value_type = String, format = Uuid)]
    pub id: ConnectionId,
    pub name: String,
    pub status: String,
    pub last_success_at: Option<String>,
    pub last_error_at: Option<String>,
    pub last_error: Option<String>,
    /// Failures in a row.
    pub consecutive_errors: i32,
    pub rate_limit_per_min: i32,
    /// The last check of its SmartSuite webhook (none registered or not checked: `null`).
    pub webhook: Option<WebhookHealth>,
    /// Its Webflow budget now (its own cap below the token's limit).
    pub budget: Option<Budget>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookHealth {
    pub status: String,
    pub checked_at: String,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Budget {
    /// Permits free now, of at most `burst`.
    pub available: f64,
    pub burst: f64,
    /// Paused by a 429 until then.
    pub paused_until: Option<String>,
}

/// Every connection, as the list shows them.
pub async fn connections(store: &Store) -> Result<Vec<ConnectionSummary>, Failed> {
    let mut conn = store.get().await?;
    let rows = suiteflow_store::list_connections(&mut conn).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(summary(&mut conn, row).await?);
    }
    Ok(out)
}

async fn summary(
    conn: &mut suiteflow_store::AsyncPgConnection,
    row: &Connection,
) -> Result<ConnectionSummary, Failed> {
    let webhook = match row.smartsuite_webhook_id {
        Some(_) => suiteflow_store::webhook_check(conn, row.id)
            .await?
            .map(|c| WebhookHealth {
                status: c.status.as_str().to_string(),
                checked_at: rfc3339(c.checked_at),
                detail: c.detail,
            }),
        None => None,
    };
    let budget = suiteflow_store::bucket_fill(conn, &bucket::webflow_cap(row.id))
        .await?
        .map(|fill| Budget {
            available: (fill.available * 10.0).floor() / 10.0,
            burst: fill.burst,
            paused_until: fill.paused_until.map(rfc3339),
        });
    Ok(ConnectionSummary {
        id: row.id,
        name: row.name.clone(),
        status: row.status.as_str().to_string(),
        last_success_at: row.last_success_at.map(rfc3339),
        last_error_at: row.last_error_at.map(rfc3339),
        last_error: row.last_error_message.clone(),
        consecutive_errors: row.consecutive_errors,
        rate_limit_per_min: row.rate_limit_per_min,
        webhook,
        budget,
    })
}

/// A connection with its two ends and its recent events.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionDetail {
    #[serde(flatten)]
    pub summary: ConnectionSummary,
    pub smartsuite_account_id: String,
    pub smartsuite_table_id: String,
    pub smartsuite_webhook_id: Option<String>,
    pub webflow_site_id: String,
    pub webflow_collection_id: String,
    pub webhook_scheme: String,
    pub sync_delay_ms: i32,
    pub mapping_version: Option<i32>,
    pub recent_events: Vec<EventRow>,
}

/// The connection `id` (by id only: names are for people typing).
pub async fn connection_row(store: &Store, id: ConnectionId) -> Result<Connection, ConsoleError> {
    let mut conn = store.get().await?;
    suiteflow_store::get_connection(&mut conn, id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("unknown connection {id}")))
}

pub async fn connection(store: &Store, id: ConnectionId) -> Result<ConnectionDetail, ConsoleError> {
    let row = connection_row(store, id).await?;
    let mut conn = store.get().await?;
    let mapping = suiteflow_store::get_mapping(&mut conn, id).await?;
    let filter = EventFilter {
        connection: Some(id),
        limit: RECENT_EVENTS,
        ..EventFilter::default()
    };
    let recent_events = suiteflow_store::queue::list_events(&mut conn, &filter)
        .await?
        .iter()
        .map(EventRow::of)
        .collect();
    Ok(ConnectionDetail {
        summary: summary(&mut conn, &row).await?,
        smartsuite_account_id: row.smartsuite_account_id.clone(),
        smartsuite_table_id: row.smartsuite_table_id.clone(),
        smartsuite_webhook_id: row.smartsuite_webhook_id.clone(),
        webflow_site_id: row.webflow_site_id.clone(),
        webflow_collection_id: row.webflow_collection_id.clone(),
        webhook_scheme: row.webhook_scheme.as_str().to_string(),
        sync_delay_ms: row.sync_delay_ms,
        mapping_version: mapping.map(|m| m.version),
        recent_events,
    })
}

/// An event as lists show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventRow {
    #[schema(value_type = String, format = Uuid)]
    pub id: suiteflow_store::EventId,
    pub seq: i64,
    #[schema(value_type = String, format = Uuid)]
    pub connection_id: ConnectionId,
    pub kind: String,
    /// The SmartSuite record (or webhook, for a pull).
    pub external_id: String,
    pub event_type: String,
    pub status: String,
    pub attempts: i32,
    pub queued_at: String,
    pub processed_at: Option<String>,
    pub error: Option<String>,
    pub partial_success: bool,
    pub webflow_item_id: Option<String>,
}

impl EventRow {
    pub fn of(e: &Event) -> Self {
        Self {
            id: e.id,
            seq: e.seq,
            connection_id: e.connection_id,
            kind: e.kind.as_str().to_string(),
            external_id: e.external_id.clone(),
            event_type: e.event_type.clone(),
            status: e.status.as_str().to_string(),
            attempts: e.attempts,
            queued_at: rfc3339(e.queued_at),
            processed_at: e.processed_at.map(rfc3339),
            error: e.error.clone(),
            partial_success: e.partial_success,
            webflow_item_id: e.webflow_item_id.clone(),
        }
    }
}

/// One page of events, and where the next one starts.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventPage {
    pub events: Vec<EventRow>,
    /// Pass as `cursor` for the next page (`null`: this was the last).
    pub next_cursor: Option<i64>,
}

/// A filter's text, trimmed; empty is none.
fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// The filters of the event list, as a request gives them (text, validated here as the CLI
/// validates its flags).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// `queued`, `processing`, `success`, `failed`, `dead_letter` or `skipped`.
    pub status: Option<String>,
    /// A connection id.
    pub connection: Option<String>,
    /// The event type (`record_updated`, `pull`, …).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// A SmartSuite record id.
    pub record: Option<String>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<i64>,
}

impl EventQuery {
    /// The store's filter; a status or connection that is not one is refused.
    pub fn filter(&self) -> Result<EventFilter, ConsoleError> {
        let status = match text(&self.status) {
            Some(s) => Some(s.parse::<EventStatus>().map_err(|_| {
                let all: Vec<&str> = EventStatus::ALL.iter().map(|s| s.as_str()).collect();
                ConsoleError::BadRequest(format!("status '{s}' is not one of {}", all.join(", ")))
            })?),
            None => None,
        };
        let connection = match text(&self.connection) {
            Some(c) => Some(c.parse::<ConnectionId>().map_err(|_| {
                ConsoleError::BadRequest(format!("connection '{c}' is not a connection id"))
            })?),
            None => None,
        };
        Ok(EventFilter {
            status,
            connection,
            event_type: text(&self.event_type).map(str::to_owned),
            external_id: text(&self.record).map(str::to_owned),
            before_seq: self.cursor,
            limit: PAGE_SIZE,
            ..EventFilter::default()
        })
    }
}

pub async fn events(store: &Store, filter: &EventFilter) -> Result<EventPage, Failed> {
    let mut conn = store.get().await?;
    let events = suiteflow_store::queue::list_events(&mut conn, filter).await?;
    let next_cursor = (events.len() as i64 == filter.limit)
        .then(|| events.last().map(|e| e.seq))
        .flatten();
    Ok(EventPage {
        events: events.iter().map(EventRow::of).collect(),
        next_cursor,
    })
}

/// An event with everything known of it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventDetail {
    #[serde(flatten)]
    pub row: EventRow,
    pub idempotency_key: String,
    pub payload: Value,
    /// Why it failed, as data: `{kind, source, status, code, details, warnings, waitingFor, until}`.
    pub error_detail: Option<Value>,
    pub warnings: Option<Value>,
    pub retry_after: Option<String>,
    pub started_at: Option<String>,
    pub duration_ms: Option<i64>,
}

pub async fn event(
    store: &Store,
    id: suiteflow_store::EventId,
) -> Result<EventDetail, ConsoleError> {
    let mut conn = store.get().await?;
    let e = suiteflow_store::queue::get_event(&mut conn, id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("unknown event {}", id.0)))?;
    Ok(EventDetail {
        row: EventRow::of(&e),
        idempotency_key: e.idempotency_key.clone(),
        payload: e.payload.clone(),
        error_detail: e.error_detail.clone(),
        warnings: e.warnings.clone(),
        retry_after: e.retry_after.map(rfc3339),
        started_at: e.started_at.map(rfc3339),
        duration_ms: e.duration_ms,
    })
}

/// The statuses a connection can be put in from the console.
pub fn parse_target_status(action: &str) -> Option<ConnectionStatus> {
    match action {
        "pause" => Some(ConnectionStatus::Paused),
        "resume" => Some(ConnectionStatus::Active),
        _ => None,
    }
}
