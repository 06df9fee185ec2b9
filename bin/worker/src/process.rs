//! Processing a claimed batch: its events grouped by connection, the groups concurrently,
//! at most `WORKER_CONCURRENCY` events in flight at once. A connection's events go to the
//! engine together (in pieces of at most `WORKER_CONCURRENCY`), so its writes leave in bulk
//! calls.

use std::collections::HashMap;

use suiteflow_store::{ConnectionId, Event, EventId, EventKind};
use suiteflow_sync::{ConnectionContext, ContextError, FailureKind, Outcome, Wait};
use tokio::sync::Semaphore;
use tracing::Instrument as _;

use crate::retry::RetrySchedule;
use crate::runner::Worker;
use crate::spans::Spans;

/// An event with what became of it, and the schedule its connection retries on.
pub(crate) struct Processed {
    pub event: Event,
    pub outcome: Outcome,
    pub schedule: RetrySchedule,
}

impl Worker {
    pub(crate) async fn process(&self, events: Vec<Event>, spans: &Spans) -> Vec<Processed> {
        let mut groups: Vec<(ConnectionId, Vec<Event>)> = Vec::new();
        for event in events {
            match groups.iter_mut().find(|(id, _)| *id == event.connection_id) {
                Some((_, list)) => list.push(event),
                None => groups.push((event.connection_id, vec![event])),
            }
        }
        let in_flight = Semaphore::new(self.settings.worker.concurrency as usize);
        let results = futures::future::join_all(
            groups
                .into_iter()
                .map(|(id, events)| self.process_connection(id, events, spans, &in_flight)),
        )
        .await;
        results.into_iter().flatten().collect()
    }

    async fn process_connection(
        &self,
        id: ConnectionId,
        events: Vec<Event>,
        spans: &Spans,
        in_flight: &Semaphore,
    ) -> Vec<Processed> {
        let ctx = match self.engine.context(id).await {
            Ok(ctx) => ctx,
            Err(e) => return self.unusable(id, e, events).await,
        };
        let schedule = RetrySchedule::of(Some(&ctx.connection), &self.settings.retry);
        let mut processed = Vec::with_capacity(events.len());
        let mut webflow_calls = 0;
        let piece = self.settings.worker.concurrency.max(1) as usize;
        let (pulls, mut records): (Vec<Event>, Vec<Event>) =
            events.into_iter().partition(|e| e.kind == EventKind::Pull);
        for event in pulls {
            let _permit = in_flight.acquire().await;
            let outcome = self
                .engine
                .pull(&ctx, &self.id, &event)
                .instrument(spans.of(&event))
                .await;
            processed.push(Processed {
                event,
                outcome,
                schedule,
            });
        }
        while !records.is_empty() {
            let rest = records.split_off(records.len().min(piece));
            let piece_events = std::mem::replace(&mut records, rest);
            let permits = u32::try_from(piece_events.len()).unwrap_or(u32::MAX);
            let _permits = in_flight.acquire_many(permits).await;
            let (outcomes, calls) = self.write(&ctx, &piece_events, spans).await;
            webflow_calls += calls;
            for event in piece_events {
                let outcome = outcomes.get(&event.id).cloned().unwrap_or_else(|| {
                    Outcome::Failed(suiteflow_sync::Failure::retry(
                        "the event was not processed",
                    ))
                });
                processed.push(Processed {
                    event,
                    outcome,
                    schedule,
                });
            }
        }
        self.update_health(&ctx, &processed, webflow_calls).await;
        processed
    }

    /// Writes one piece of a connection's `record` events, in one span linked to the span of
    /// every event it carries.
    async fn write(
        &self,
        ctx: &ConnectionContext,
        events: &[Event],
        spans: &Spans,
    ) -> (HashMap<EventId, Outcome>, u32) {
        let batch =
            tracing::info_span!("sync_batch", connection_id = %ctx.id().0, events = events.len());
        for event in events {
            suiteflow_telemetry::add_link(&batch, &spans.of(event));
        }
        let written = self.engine.write(ctx, events).instrument(batch).await;
        (
            written.outcomes.into_iter().collect(),
            written.webflow_calls,
        )
    }

    /// A connection whose context could not be built: its events were not tried. A passing
    /// failure (an API or the database) makes them wait with the connection's backoff, without
    /// spending an attempt; any other failure is theirs to record.
    async fn unusable(
        &self,
        id: ConnectionId,
        error: ContextError,
        events: Vec<Event>,
    ) -> Vec<Processed> {
        let ContextError {
            failure,
            connection,
        } = error;
        tracing::warn!(connection_id = %id.0, error = %failure, "connection not usable");
        let schedule = RetrySchedule::of(connection.as_ref(), &self.settings.retry);
        let failure = match failure.kind() {
            FailureKind::Retry => {
                let until = self
                    .unusable_until(id, &failure.to_string(), schedule)
                    .await;
                failure.rescheduled(until, Wait::Connection)
            }
            _ => failure,
        };
        events
            .into_iter()
            .map(|event| Processed {
                event,
                outcome: Outcome::Failed(failure.clone()),
                schedule,
            })
            .collect()
    }
}
