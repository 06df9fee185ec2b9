//! The worker's heartbeat: its row in `workers` (id, host, started, last seen, the batch in
//! hand), written every few seconds by a task of its own, so a worker that is idle or busy
//! with a long batch is seen alive, and one that is gone is not; a clean stop is recorded.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use suiteflow_store::{Beat, Store};
use time::OffsetDateTime;

use crate::runner::AbortOnDrop;

/// How often a running worker writes its heartbeat.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);

/// The batch in hand: its events and when it was claimed.
type InHand = Option<(i32, OffsetDateTime)>;

#[derive(Clone)]
pub(crate) struct Heartbeat {
    store: Store,
    id: String,
    host: String,
    started_at: OffsetDateTime,
    in_hand: Arc<Mutex<InHand>>,
    pub(crate) every: Duration,
}

impl Heartbeat {
    pub(crate) fn new(store: Store, id: String, host: String) -> Self {
        Self {
            store,
            id,
            host,
            started_at: OffsetDateTime::now_utc(),
            in_hand: Arc::new(Mutex::new(None)),
            every: HEARTBEAT_INTERVAL,
        }
    }

    /// Writes the row now. A failure is logged: the next beat tries again.
    pub(crate) async fn beat(&self) {
        let batch = *self.in_hand.lock().unwrap_or_else(|e| e.into_inner());
        let beat = Beat {
            id: &self.id,
            host: &self.host,
            started_at: self.started_at,
            batch,
        };
        let written = async {
            let mut conn = self.store.get().await?;
            suiteflow_store::heartbeat(&mut conn, &beat).await
        };
        if let Err(e) = written.await {
            tracing::warn!(error = %e, "could not write the worker's heartbeat");
        }
    }

    /// Records that this worker stopped cleanly: no longer listed among the running workers.
    pub(crate) async fn stopped(&self) {
        let written = async {
            let mut conn = self.store.get().await?;
            suiteflow_store::worker_stopped(&mut conn, &self.id).await
        };
        if let Err(e) = written.await {
            tracing::warn!(error = %e, "could not record that the worker stopped");
        }
    }

    /// Beats now and then every `every` until the returned guard is dropped.
    pub(crate) fn keep(&self) -> AbortOnDrop {
        let heartbeat = self.clone();
        AbortOnDrop(tokio::spawn(async move {
            let mut every = tokio::time::interval(heartbeat.every);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                heartbeat.beat().await;
            }
        }))
    }

    /// Marks a batch of `events` as in hand until the returned guard is dropped.
    pub(crate) fn hold(&self, events: usize) -> Holding {
        let events = i32::try_from(events).unwrap_or(i32::MAX);
        *self.in_hand.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((events, OffsetDateTime::now_utc()));
        Holding(Arc::clone(&self.in_hand))
    }
}

/// A batch in hand; dropped when it is recorded (or given up).
pub(crate) struct Holding(Arc<Mutex<InHand>>);

impl Drop for Holding {
    fn drop(&mut self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}
