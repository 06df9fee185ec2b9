//! The loop: claim a batch in one short transaction, process it with nothing open, record each
//! outcome in a second short statement fenced by the lease owner (docs/architecture.md, "The
//! queue").

use std::time::{Duration, Instant};

use serde::Serialize;
use suiteflow_store::queue::QueueStats;
use suiteflow_store::{Store, StoreError};
use suiteflow_sync::{ClientOptions, Connector, Engine};
use tokio::sync::watch;

use crate::Settings;
use crate::heartbeat::Heartbeat;
use crate::spans::Spans;

/// How long the loop sleeps without a notification before it polls anyway.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// The shortest idle wait, so a budget about to open does not spin the loop.
const MIN_IDLE_WAIT: Duration = Duration::from_millis(5);
/// How often housekeeping (retention, keep-alive pulls) is attempted; one worker does it.
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(60);
/// How often `run` refreshes the queue gauges (depth, oldest age, connections by status).
const GAUGE_INTERVAL: Duration = Duration::from_secs(5);

/// What one batch (or `worker --once`) did, with the queue's figures after it: the cron
/// summary `worker --once` prints.
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
    pub(crate) engine: Engine,
    pub(crate) settings: Settings,
    pub(crate) id: String,
    pub(crate) heartbeat: Heartbeat,
}

impl Worker {
    pub fn new(store: Store, settings: Settings) -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".into());
        let id = format!(
            "{host}-{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let connector = Connector::new(settings.keys.clone(), settings.api.clone());
        Self {
            heartbeat: Heartbeat::new(store.clone(), id.clone(), host),
            engine: Engine::new(store, connector).with_schema_ttl(settings.worker.schema_ttl),
            settings,
            id,
        }
    }

    /// Writes the heartbeat every `every` instead of every five seconds, for tests.
    pub fn with_heartbeat_every(mut self, every: Duration) -> Self {
        self.heartbeat.every = every;
        self
    }

    /// Shorter client timeouts and pauses, for tests.
    pub fn with_client_options(self, options: ClientOptions) -> Self {
        let connector = self.engine.connector().clone().with_options(options);
        Self {
            engine: Engine::new(self.engine.store().clone(), connector)
                .with_schema_ttl(self.settings.worker.schema_ttl),
            ..self
        }
    }

    /// This worker's name in `locked_by`.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn store(&self) -> &Store {
        self.engine.store()
    }

    /// Runs the maintenance that is due, claims one batch, processes it, records the outcomes
    /// and returns the summary with the queue's depth and oldest age after it
    /// (`worker --once`). The heartbeat is written when it starts, and the stop when it is done.
    pub async fn run_once(&self) -> Result<Summary, StoreError> {
        self.heartbeat.beat().await;
        // A cron-run worker has no loop to run housekeeping: do what is due first.
        if let Err(e) = self.maintenance().await {
            tracing::warn!(error = %e, "maintenance failed");
        }
        let summary = self.run_batch().await;
        self.heartbeat.stopped().await;
        Ok(summary?.with_queue(self.observe_queue().await?))
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

    /// Claims one batch, processes it and records the outcomes; the heartbeat shows the batch
    /// as in hand meanwhile.
    async fn run_batch(&self) -> Result<Summary, StoreError> {
        let started = Instant::now();
        let claim = {
            let mut conn = self.store().get().await?;
            suiteflow_store::queue::claim_batch(
                &mut conn,
                &self.id,
                self.settings.worker.batch_size,
                self.settings.worker.lease,
            )
            .await?
        };
        crate::record::report_superseded(&claim.superseded);
        crate::metrics::claimed(claim.events.len());
        let events = claim.events;
        let mut summary = Summary {
            processed: events.len() as u64,
            ..Summary::default()
        };
        if events.is_empty() {
            return Ok(summary);
        }
        let _holding = self.heartbeat.hold(events.len());
        let spans = Spans::new(&events);
        let keeper = self.keep_leases(events.iter().map(|e| e.id).collect());
        let processed = self.process(events, &spans).await;
        drop(keeper);
        let count = processed.len() as u64;
        match self.record(processed, &spans).await {
            Ok(recorded) => {
                summary.succeeded = recorded.succeeded;
                summary.failed = recorded.failed;
            }
            Err(e) => {
                // The events stay claimed until their lease expires; then they are claimed again.
                summary.failed = count;
                tracing::warn!(events = count, error = %e, "could not record the batch's outcomes");
            }
        }
        summary.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Ok(summary)
    }

    /// Keeps the batch's leases while it is worked on: every half lease, they are extended to
    /// a full lease from now (fenced by this worker), so a slow API answer does not let another
    /// worker take over events still in flight. Stopped when the returned guard is dropped:
    /// when the batch's work is done, and also if it panics or its future is dropped.
    fn keep_leases(&self, ids: Vec<suiteflow_store::EventId>) -> AbortOnDrop {
        let store = self.store().clone();
        let worker = self.id.clone();
        let lease = self.settings.worker.lease;
        AbortOnDrop(tokio::spawn(async move {
            let mut every = tokio::time::interval(lease / 2);
            every.tick().await;
            loop {
                every.tick().await;
                let extended = async {
                    let mut conn = store.get().await?;
                    suiteflow_store::queue::extend_leases(&mut conn, &worker, &ids, lease).await
                };
                match extended.await {
                    Ok(n) if n < ids.len() => {
                        tracing::warn!(
                            held = n,
                            of = ids.len(),
                            "some of the batch's leases were lost"
                        );
                    }
                    Ok(_) => tracing::debug!(events = ids.len(), "leases extended"),
                    Err(e) => tracing::warn!(error = %e, "could not extend the batch's leases"),
                }
            }
        }))
    }

    /// Reads the queue's depth and oldest age and the connections by status into the gauges:
    /// two counting queries, so `run` does it every `GAUGE_INTERVAL`, not once per batch.
    async fn observe_queue(&self) -> Result<QueueStats, StoreError> {
        let mut conn = self.store().get().await?;
        let queue = suiteflow_store::queue::queue_stats(&mut conn).await?;
        crate::metrics::queue(
            queue.depth,
            queue.oldest_age.map_or(0.0, |d| d.as_secs_f64()),
        );
        for (status, count) in suiteflow_store::count_connections_by_status(&mut conn).await? {
            crate::metrics::connections(status.as_str(), count);
        }
        crate::metrics::webhooks(&suiteflow_store::webhook_health(&mut conn).await?);
        Ok(queue)
    }

    /// How long to wait for a notification after a claim that found nothing: until the first
    /// closed Webflow budget with events waiting opens (it sends no notification), at most
    /// `POLL_INTERVAL`.
    async fn idle_wait(&self) -> Duration {
        let opens_at = async {
            let mut conn = self.store().get().await?;
            suiteflow_store::queue::budget_opens_at(&mut conn).await
        };
        match opens_at.await {
            Ok(Some(at)) => Duration::try_from(at - time::OffsetDateTime::now_utc())
                .unwrap_or_default()
                .clamp(MIN_IDLE_WAIT, POLL_INTERVAL),
            Ok(None) => POLL_INTERVAL,
            Err(e) => {
                tracing::warn!(error = %e, "could not read when the budgets open");
                POLL_INTERVAL
            }
        }
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
        let heartbeat = self.heartbeat.keep();
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
            let idle = self.idle_wait().await;
            let wait = async {
                match listener.as_mut() {
                    Some(l) => {
                        if let Err(e) = l.wait(idle).await {
                            // The listener reconnects on its next wait; until then, poll.
                            tracing::warn!(error = %e, "LISTEN connection lost; polling");
                            tokio::time::sleep(idle).await;
                        }
                    }
                    None => tokio::time::sleep(idle).await,
                }
            };
            tokio::select! {
                () = wait => {}
                _ = stop.changed() => {}
            }
        }
        drop(heartbeat);
        self.heartbeat.stopped().await;
        tracing::info!(worker = %self.id, "worker stopped");
        Ok(())
    }
}

/// A task that is aborted when this is dropped (a tokio `JoinHandle` alone lets it run on).
pub(crate) struct AbortOnDrop(pub(crate) tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
