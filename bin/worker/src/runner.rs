//! The loop (DESIGN §6): claim a batch in one short transaction, process it with nothing open,
//! record each outcome in a second short statement fenced by the lease owner.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use suiteflow_store::queue::QueueStats;
use suiteflow_store::{
    Completion, ConnectionId, ConnectionStatus, DailyCounts, Event, EventId, EventKind, NewEvent,
    Store, StoreError,
};
use time::OffsetDateTime;
use tokio::sync::watch;
use tracing::Instrument as _;

use crate::Settings;
use crate::context::{self, Cache, ClientOptions, Context};
use crate::outcome::{Failure, Outcome, RetryPolicy, backoff, jitter_unit};

/// How long the loop sleeps without a notification before it polls anyway.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How often housekeeping (retention, keep-alive pulls) is attempted; one worker does it.
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(60);
/// How often `run` refreshes the queue gauges (depth, oldest age, connections by status).
const GAUGE_INTERVAL: Duration = Duration::from_secs(5);
const MAINTENANCE_LOCK: &str = "worker.maintenance";
/// A SmartSuite webhook is kept alive by a pull at least this often (it expires after 7 idle days).
const KEEP_ALIVE_EVERY: time::Duration = time::Duration::days(1);

/// The cron summary of the original plan, printed by `worker --once`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub processed: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub duration_ms: u64,
    pub queue_depth: i64,
    pub oldest_event_age: u64,
}

impl Summary {
    /// This summary with the queue's figures after it.
    fn with_queue(self, queue: QueueStats) -> Self {
        Self {
            queue_depth: queue.depth,
            oldest_event_age: queue.oldest_age.map_or(0, |d| d.as_secs()),
            ..self
        }
    }
}

pub struct Worker {
    store: Store,
    settings: Settings,
    id: String,
    cache: Cache,
    options: ClientOptions,
}

impl Worker {
    pub fn new(store: Store, settings: Settings) -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".into());
        let id = format!(
            "{host}-{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        Self {
            store,
            settings,
            id,
            cache: Cache::default(),
            options: ClientOptions::default(),
        }
    }

    /// Shorter client timeouts and pauses, for tests.
    pub fn with_client_options(mut self, options: ClientOptions) -> Self {
        self.options = options;
        self
    }

    /// This worker's name in `locked_by`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Claims one batch, processes it, records the outcomes and returns the summary with the
    /// queue's depth and oldest age after it (`worker --once`).
    pub async fn run_once(&self) -> Result<Summary, StoreError> {
        let summary = self.run_batch().await?;
        Ok(summary.with_queue(self.observe_queue().await?))
    }

    /// Runs batches until one claims nothing (events waiting for a later `retry_after` stay).
    pub async fn run_until_empty(&self) -> Result<Summary, StoreError> {
        let mut total = Summary::default();
        loop {
            let s = self.run_batch().await?;
            total.processed += s.processed;
            total.succeeded += s.succeeded;
            total.failed += s.failed;
            total.duration_ms += s.duration_ms;
            if s.processed == 0 {
                return Ok(total.with_queue(self.observe_queue().await?));
            }
        }
    }

    /// Claims one batch, processes it and records the outcomes (and, when it claimed anything,
    /// the original plan's `worker.completed` audit entry).
    async fn run_batch(&self) -> Result<Summary, StoreError> {
        let started = Instant::now();
        let lease = self.settings.worker.lease;
        let events = {
            let mut conn = self.store.get().await?;
            suiteflow_store::queue::claim(
                &mut conn,
                &self.id,
                self.settings.worker.batch_size,
                lease,
            )
            .await?
        };
        let mut summary = Summary {
            processed: events.len() as u64,
            ..Summary::default()
        };
        if events.is_empty() {
            return Ok(summary);
        }
        let spans = Spans::new(&events);
        let outcomes = self.process(events, &spans).await;
        for (event, outcome, policy) in outcomes {
            let recorded = self
                .record(&event, outcome, policy)
                .instrument(spans.of(&event))
                .await;
            match recorded {
                Ok(true) => summary.succeeded += 1,
                Ok(false) => summary.failed += 1,
                Err(e) => {
                    summary.failed += 1;
                    tracing::warn!(event_id = %event.id.0, error = %e, "could not record the outcome");
                }
            }
        }
        summary.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        // The queue's figures are not read per batch (see `observe_queue`), so not recorded.
        let details = serde_json::json!({
            "processed": summary.processed,
            "succeeded": summary.succeeded,
            "failed": summary.failed,
            "durationMs": summary.duration_ms,
        });
        let mut conn = self.store.get().await?;
        suiteflow_store::audit(&mut conn, &self.id, "worker.completed", None, &details).await?;
        Ok(summary)
    }

    /// Reads the queue's depth and oldest age and the connections by status into the gauges:
    /// two counting queries, so `run` does it every `GAUGE_INTERVAL`, not once per batch.
    async fn observe_queue(&self) -> Result<QueueStats, StoreError> {
        let mut conn = self.store.get().await?;
        let queue = suiteflow_store::queue::queue_stats(&mut conn).await?;
        crate::metrics::queue(
            queue.depth,
            queue.oldest_age.map_or(0.0, |d| d.as_secs_f64()),
        );
        for (status, count) in suiteflow_store::count_connections_by_status(&mut conn).await? {
            crate::metrics::connections(status.as_str(), count);
        }
        Ok(queue)
    }

    /// Claims and processes until `stop` turns true, woken by NOTIFY and polling at least every
    /// second. On stop it claims nothing more and returns once the batch in hand is recorded.
    pub async fn run(&self, mut stop: watch::Receiver<bool>) -> Result<(), StoreError> {
        let mut listener =
            match suiteflow_store::Listener::connect(self.settings.database.url.expose()).await {
                Ok(l) => Some(l),
                Err(e) => {
                    tracing::warn!(error = %e, "LISTEN unavailable; polling every second");
                    None
                }
            };
        let mut last_maintenance: Option<Instant> = None;
        let mut last_gauges: Option<Instant> = None;
        tracing::info!(worker = %self.id, "worker started");
        while !*stop.borrow() {
            if last_maintenance.is_none_or(|t| t.elapsed() >= MAINTENANCE_INTERVAL) {
                last_maintenance = Some(Instant::now());
                if let Err(e) = self.maintenance().await {
                    tracing::warn!(error = %e, "maintenance failed");
                }
            }
            if last_gauges.is_none_or(|t| t.elapsed() >= GAUGE_INTERVAL) {
                last_gauges = Some(Instant::now());
                if let Err(e) = self.observe_queue().await {
                    tracing::warn!(error = %e, "could not read the queue's depth");
                }
            }
            let claimed = match self.run_batch().await {
                Ok(summary) => summary.processed,
                Err(e) => {
                    tracing::error!(error = %e, "batch failed");
                    0
                }
            };
            if claimed > 0 {
                continue;
            }
            let wait = async {
                match listener.as_mut() {
                    Some(l) => {
                        let _ = l.wait(POLL_INTERVAL).await;
                    }
                    None => tokio::time::sleep(POLL_INTERVAL).await,
                }
            };
            tokio::select! {
                () = wait => {}
                _ = stop.changed() => {}
            }
        }
        tracing::info!(worker = %self.id, "worker stopped");
        Ok(())
    }

    /// Processes a claimed batch: connections concurrently (at most `WORKER_CONCURRENCY`),
    /// each connection's events together so its writes go out in bulk calls.
    async fn process(
        &self,
        events: Vec<Event>,
        spans: &Spans,
    ) -> Vec<(Event, Outcome, RetryPolicy)> {
        let mut groups: Vec<(ConnectionId, Vec<Event>)> = Vec::new();
        for event in events {
            match groups.iter_mut().find(|(id, _)| *id == event.connection_id) {
                Some((_, list)) => list.push(event),
                None => groups.push((event.connection_id, vec![event])),
            }
        }
        let limit = Arc::new(tokio::sync::Semaphore::new(
            self.settings.worker.concurrency as usize,
        ));
        let results = futures::future::join_all(groups.into_iter().map(|(id, events)| {
            let limit = limit.clone();
            async move {
                let _permit = limit.acquire().await;
                self.process_connection(id, events, spans).await
            }
        }))
        .await;
        results.into_iter().flatten().collect()
    }

    async fn process_connection(
        &self,
        id: ConnectionId,
        events: Vec<Event>,
        spans: &Spans,
    ) -> Vec<(Event, Outcome, RetryPolicy)> {
        let ctx = match self.context(id).await {
            Ok(ctx) => ctx,
            Err((failure, connection)) => {
                tracing::warn!(connection_id = %id.0, error = %failure.message(), "connection not usable");
                let policy = self.policy(connection.as_ref());
                let failure = match failure {
                    Failure::Transient(message) => {
                        Failure::Throttled(self.unusable_until(id, &message, policy).await)
                    }
                    other => other,
                };
                return events
                    .into_iter()
                    .map(|e| (e, Outcome::Failed(failure.clone()), policy))
                    .collect();
            }
        };
        let policy = self.policy(Some(&ctx.connection));
        let (pulls, records): (Vec<Event>, Vec<Event>) =
            events.into_iter().partition(|e| e.kind == EventKind::Pull);
        let mut outcomes = Vec::new();
        for event in pulls {
            let pulled = crate::pull::pull(&self.store, &ctx, &self.id, &event)
                .instrument(spans.of(&event))
                .await;
            match pulled {
                None => outcomes.push((event, Outcome::Recorded)),
                Some(outcome) => outcomes.push((event, outcome)),
            }
        }
        let mut calls = 0;
        if !records.is_empty() {
            // One span for the bulk calls, linked to the span of every event they carry.
            let batch =
                tracing::info_span!("sync_batch", connection_id = %id.0, events = records.len());
            for event in &records {
                suiteflow_telemetry::add_link(&batch, &spans.of(event));
            }
            let (outcomes_by_id, made) = crate::sync::process(&self.store, &ctx, &records)
                .instrument(batch)
                .await;
            calls = made;
            let by_id: HashMap<EventId, Outcome> = outcomes_by_id.into_iter().collect();
            for event in records {
                let outcome = by_id.get(&event.id).cloned().unwrap_or_else(|| {
                    Outcome::Failed(Failure::Transient("the event was not processed".into()))
                });
                outcomes.push((event, outcome));
            }
        }
        self.update_health(&ctx, &outcomes, calls).await;
        outcomes.into_iter().map(|(e, o)| (e, o, policy)).collect()
    }

    /// The connection's retry policy, or the configured defaults.
    fn policy(&self, connection: Option<&suiteflow_store::Connection>) -> RetryPolicy {
        let retry = &self.settings.retry;
        match connection {
            Some(c) => RetryPolicy {
                max_attempts: u32::try_from(c.max_retries).unwrap_or(retry.max_attempts),
                base: Duration::from_millis(
                    u64::try_from(c.retry_backoff_ms).unwrap_or(1000).max(1),
                ),
                max: retry.max_backoff,
            },
            None => RetryPolicy {
                max_attempts: retry.max_attempts,
                base: retry.backoff,
                max: retry.max_backoff,
            },
        }
    }

    /// When to try a connection again whose context could not be built for a passing reason
    /// (its Webflow collection or SmartSuite table could not be read, or the database failed).
    /// The events themselves were not tried, so they spend no attempt and are never
    /// dead-lettered for it: they wait, and the oldest-event-age alert fires. The failure is
    /// recorded on the connection (`last_error_message`, `consecutive_errors`, shared by every
    /// replica), and the wait doubles with the streak up to `MAX_RETRY_BACKOFF_MS`, so an API
    /// that stays down is not asked again every second.
    async fn unusable_until(
        &self,
        id: ConnectionId,
        message: &str,
        policy: RetryPolicy,
    ) -> OffsetDateTime {
        let streak = match self.store.get().await {
            Ok(mut conn) => suiteflow_store::record_connection_error(&mut conn, id, message, None)
                .await
                .unwrap_or(1),
            Err(_) => 1,
        };
        let streak = u32::try_from(streak).unwrap_or(1);
        OffsetDateTime::now_utc() + backoff(streak, policy.base, policy.max, jitter_unit())
    }

    /// The connection with its clients and mapping, rebuilt only when they changed. A failure
    /// after the connection was read comes with it, for its retry policy.
    async fn context(
        &self,
        id: ConnectionId,
    ) -> Result<Context, (Failure, Option<suiteflow_store::Connection>)> {
        let without = |failure: Failure| (failure, None);
        let mut conn = self
            .store
            .get()
            .await
            .map_err(|e| without(crate::sync::store_failure(e)))?;
        let connection = suiteflow_store::get_connection(&mut conn, id)
            .await
            .map_err(|e| without(crate::sync::store_failure(e)))?
            .ok_or_else(|| without(Failure::Permanent("the connection no longer exists".into())))?;
        let mapping = suiteflow_store::get_mapping(&mut conn, id)
            .await
            .map_err(|e| without(crate::sync::store_failure(e)))?;
        drop(conn);
        match self.build(&connection, mapping.as_ref()).await {
            Ok(built) => Ok(Context { connection, built }),
            Err(failure) => Err((failure, Some(connection))),
        }
    }

    /// The connection's clients and compiled mapping: cached, built (reading the Webflow
    /// collection and the SmartSuite table) only when the connection or mapping changed.
    async fn build(
        &self,
        connection: &suiteflow_store::Connection,
        mapping: Option<&suiteflow_store::Mapping>,
    ) -> Result<Arc<context::Built>, Failure> {
        let fingerprint = context::fingerprint(connection, mapping);
        if let Some(built) = self.cache.get(connection.id, &fingerprint) {
            return Ok(built);
        }
        // Building reads the Webflow collection: pay for it like any other call.
        crate::sync::webflow_token(&self.store, connection, self.options.rate_window, None).await?;
        let built = Arc::new(
            context::build(
                connection,
                mapping,
                &self.settings.keys,
                &self.settings.api,
                &self.options,
            )
            .await?,
        );
        self.cache.put(connection.id, built.clone());
        Ok(built)
    }

    /// Records one outcome, fenced by this worker's lease. `Ok(true)` for a success.
    async fn record(
        &self,
        event: &Event,
        outcome: Outcome,
        policy: RetryPolicy,
    ) -> Result<bool, StoreError> {
        let mut conn = self.store.get().await?;
        let worker = self.id.as_str();
        let elapsed = (OffsetDateTime::now_utc() - event.queued_at).as_seconds_f64();
        match outcome {
            Outcome::Done {
                webflow_item_id,
                warnings,
            } => {
                let completion = Completion {
                    webflow_item_id,
                    webflow_response: None,
                    warnings,
                };
                suiteflow_store::queue::complete(&mut conn, worker, event.id, &completion).await?;
                crate::metrics::event("success");
                crate::metrics::event_duration(elapsed);
                Ok(true)
            }
            Outcome::Recorded => {
                crate::metrics::event("success");
                crate::metrics::event_duration(elapsed);
                Ok(true)
            }
            Outcome::Failed(Failure::Throttled(at)) => {
                suiteflow_store::queue::release(&mut conn, worker, event.id, Some(at)).await?;
                crate::metrics::event("rescheduled");
                Ok(false)
            }
            Outcome::Failed(Failure::Credentials(message)) => {
                // A person must fix the credentials: stop the connection, keep its events.
                suiteflow_store::queue::release(&mut conn, worker, event.id, None).await?;
                suiteflow_store::record_connection_error(
                    &mut conn,
                    event.connection_id,
                    &message,
                    Some(ConnectionStatus::Error),
                )
                .await?;
                tracing::error!(connection_id = %event.connection_id.0, error = %message, "credentials refused; connection set to error");
                crate::metrics::event("rescheduled");
                Ok(false)
            }
            Outcome::Failed(Failure::Transient(message)) => {
                let attempts = u32::try_from(event.attempts).unwrap_or(u32::MAX);
                if attempts >= policy.max_attempts.max(1) {
                    suiteflow_store::queue::dead_letter(&mut conn, worker, event.id, &message)
                        .await?;
                    tracing::warn!(event_id = %event.id.0, attempts, error = %message, "dead-lettered after the last attempt");
                    crate::metrics::event("dead_letter");
                } else {
                    let delay = backoff(attempts, policy.base, policy.max, jitter_unit());
                    let retry_after = OffsetDateTime::now_utc() + delay;
                    suiteflow_store::queue::fail(
                        &mut conn,
                        worker,
                        event.id,
                        &message,
                        retry_after,
                    )
                    .await?;
                    tracing::info!(event_id = %event.id.0, attempts, delay_ms = delay.as_millis() as u64, error = %message, "will retry");
                    crate::metrics::event("failed");
                }
                Ok(false)
            }
            Outcome::Failed(Failure::Permanent(message)) => {
                suiteflow_store::queue::dead_letter(&mut conn, worker, event.id, &message).await?;
                tracing::warn!(event_id = %event.id.0, error = %message, "dead-lettered");
                crate::metrics::event("dead_letter");
                Ok(false)
            }
        }
    }

    /// Health fields: success resets the error streak; failures count and keep the message.
    async fn update_health(
        &self,
        ctx: &Context,
        outcomes: &[(Event, Outcome)],
        webflow_calls: u32,
    ) {
        let Ok(mut conn) = self.store.get().await else {
            return;
        };
        let id = ctx.id();
        let mut counts = DailyCounts {
            webflow_calls: i32::try_from(webflow_calls).unwrap_or(i32::MAX),
            ..DailyCounts::default()
        };
        let now = OffsetDateTime::now_utc();
        let mut last_error = None;
        for (event, outcome) in outcomes {
            match outcome {
                Outcome::Done { .. } | Outcome::Recorded => {
                    counts.succeeded += 1;
                    let ms = (now - event.queued_at).whole_milliseconds();
                    counts.total_duration_ms += i64::try_from(ms.max(0)).unwrap_or(i64::MAX);
                }
                Outcome::Failed(Failure::Permanent(m)) => {
                    counts.dead_lettered += 1;
                    last_error = Some(m.clone());
                }
                Outcome::Failed(Failure::Transient(m)) => {
                    counts.failed += 1;
                    last_error = Some(m.clone());
                }
                Outcome::Failed(_) => {}
            }
            if event.attempts <= 1 {
                counts.events_received += 1;
            }
        }
        let health = match &last_error {
            Some(message) => suiteflow_store::record_connection_error(&mut conn, id, message, None)
                .await
                .map(|_| ()),
            None if counts.succeeded > 0 => {
                suiteflow_store::record_connection_success(&mut conn, id).await
            }
            None => Ok(()),
        };
        if let Err(e) = health {
            tracing::warn!(connection_id = %id.0, error = %e, "could not update connection health");
        }
        let today = OffsetDateTime::now_utc().date();
        if let Err(e) = suiteflow_store::add_daily(&mut conn, id, today, counts).await {
            tracing::warn!(connection_id = %id.0, error = %e, "could not update daily analytics");
        }
    }

    /// One worker at a time (by lock): purge finished events past retention, and queue a
    /// keep-alive pull for every SmartSuite webhook not pulled for a day.
    pub async fn maintenance(&self) -> Result<(), StoreError> {
        let mut conn = self.store.get().await?;
        let lease = Duration::from_secs(300);
        if suiteflow_store::acquire_lock(&mut conn, MAINTENANCE_LOCK, &self.id, lease)
            .await?
            .is_none()
        {
            return Ok(());
        }
        let retention = time::Duration::days(i64::from(self.settings.worker.retention_days));
        let purged = suiteflow_store::queue::purge_finished_all(
            &mut conn,
            OffsetDateTime::now_utc() - retention,
            1000,
            false,
        )
        .await?;
        let due = suiteflow_store::connections_due_for_keep_alive(
            &mut conn,
            OffsetDateTime::now_utc() - KEEP_ALIVE_EVERY,
            100,
        )
        .await?;
        let today = OffsetDateTime::now_utc().date();
        let pulls: Vec<NewEvent> = due
            .iter()
            .filter_map(|c| {
                let webhook = c.smartsuite_webhook_id.clone()?;
                let mut pull = NewEvent::pull(c.id, webhook, format!("keep-alive:{today}"));
                pull.event_type = "keep_alive".into();
                Some(pull)
            })
            .collect();
        suiteflow_store::queue::enqueue_many(&mut conn, &pulls).await?;
        suiteflow_store::release_lock(&mut conn, MAINTENANCE_LOCK, &self.id).await?;
        if purged > 0 || !pulls.is_empty() {
            tracing::info!(purged, keep_alive_pulls = pulls.len(), "maintenance done");
        }
        Ok(())
    }
}

/// A span per claimed event, continuing the trace of the request that enqueued it; open from
/// the claim until its outcome is recorded.
struct Spans(HashMap<EventId, tracing::Span>);

impl Spans {
    fn new(events: &[Event]) -> Self {
        Self(
            events
                .iter()
                .map(|event| {
                    let span = tracing::info_span!(
                        "process_event",
                        otel.kind = "consumer",
                        event_id = %event.id.0,
                        connection_id = %event.connection_id.0,
                        kind = event.kind.as_str(),
                        attempt = event.attempts,
                    );
                    if let Some(stored) = &event.trace_context {
                        suiteflow_telemetry::continue_trace(&span, stored);
                    }
                    (event.id, span)
                })
                .collect(),
        )
    }

    fn of(&self, event: &Event) -> tracing::Span {
        self.0
            .get(&event.id)
            .cloned()
            .unwrap_or_else(tracing::Span::none)
    }
}
