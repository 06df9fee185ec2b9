//! Recording an outcome, fenced by this worker's lease: success, a retry with backoff (or the
//! dead letter after the last attempt), a release without spending an attempt, the connection
//! stopped for its credentials. The failure becomes text (`error`) and data (`error_detail`)
//! here, where it is stored.

use suiteflow_store::queue::EventError;
use suiteflow_store::{Completion, ConnectionStatus, StoreError};
use suiteflow_sync::{Failure, FailureKind, Outcome};
use time::OffsetDateTime;

use crate::process::Processed;
use crate::runner::Worker;

impl Worker {
    /// Records one outcome. `Ok(true)` for a success.
    pub(crate) async fn record(&self, processed: Processed) -> Result<bool, StoreError> {
        let Processed {
            event,
            outcome,
            schedule,
        } = processed;
        let mut conn = self.store().get().await?;
        let worker = self.id.as_str();
        let elapsed = (OffsetDateTime::now_utc() - event.queued_at).as_seconds_f64();
        let failure = match outcome {
            Outcome::Done {
                webflow_item_id,
                warnings,
            } => {
                let partial = !warnings.is_empty();
                let completion = Completion {
                    webflow_item_id,
                    webflow_response: None,
                    warnings,
                };
                suiteflow_store::queue::complete(&mut conn, worker, event.id, &completion).await?;
                crate::metrics::event(if partial { "partial" } else { "success" });
                crate::metrics::event_duration(elapsed);
                return Ok(true);
            }
            Outcome::Recorded => {
                crate::metrics::event("success");
                crate::metrics::event_duration(elapsed);
                return Ok(true);
            }
            Outcome::Skipped(reason) => {
                suiteflow_store::queue::skip(&mut conn, worker, event.id, &reason).await?;
                tracing::info!(event_id = %event.id.0, record = %event.external_id, reason = %reason, "skipped");
                crate::metrics::event("skipped");
                return Ok(true);
            }
            Outcome::Failed(failure) => failure,
        };
        let message = failure.to_string();
        let detail = failure.detail().to_json();
        let error = EventError {
            message: &message,
            detail: Some(&detail),
        };
        match failure.kind() {
            FailureKind::Reschedule { until, wait } => {
                suiteflow_store::queue::release(
                    &mut conn,
                    worker,
                    event.id,
                    Some(until),
                    Some(&error),
                )
                .await?;
                tracing::info!(event_id = %event.id.0, waiting_for = wait.as_str(), until = %until, error = %message, "rescheduled");
                crate::metrics::event("rescheduled");
            }
            FailureKind::Credentials | FailureKind::Mismatch => {
                // A person must fix the credentials or the mapping: stop the connection, keep
                // its events.
                suiteflow_store::queue::release(&mut conn, worker, event.id, None, Some(&error))
                    .await?;
                suiteflow_store::record_connection_error(
                    &mut conn,
                    event.connection_id,
                    &message,
                    Some(ConnectionStatus::Error),
                )
                .await?;
                let why = if failure.kind() == FailureKind::Mismatch {
                    "the mapping no longer fits the schemas"
                } else {
                    "credentials refused"
                };
                tracing::error!(connection_id = %event.connection_id.0, error = %message, "{why}; connection set to error");
                crate::metrics::event("rescheduled");
            }
            FailureKind::Retry => {
                let attempts = u32::try_from(event.attempts).unwrap_or(u32::MAX);
                if attempts >= schedule.max_attempts.max(1) {
                    suiteflow_store::queue::dead_letter(&mut conn, worker, event.id, &error)
                        .await?;
                    tracing::warn!(event_id = %event.id.0, attempts, error = %message, "dead-lettered after the last attempt");
                    crate::metrics::event("dead_letter");
                } else {
                    let delay = schedule.delay(attempts);
                    let retry_after = OffsetDateTime::now_utc() + delay;
                    suiteflow_store::queue::fail(&mut conn, worker, event.id, &error, retry_after)
                        .await?;
                    tracing::info!(event_id = %event.id.0, attempts, delay_ms = delay.as_millis() as u64, error = %message, "will retry");
                    crate::metrics::event("failed");
                }
            }
            FailureKind::Permanent => {
                suiteflow_store::queue::dead_letter(&mut conn, worker, event.id, &error).await?;
                tracing::warn!(event_id = %event.id.0, error = %message, detail = %detail, "dead-lettered");
                crate::metrics::event("dead_letter");
            }
        }
        Ok(false)
    }
}

/// Whether a failure counts against the connection's health (a rescheduled event was not at
/// fault, and a credentials error is recorded on its own).
pub(crate) fn counts_as_error(failure: &Failure) -> bool {
    matches!(failure.kind(), FailureKind::Retry | FailureKind::Permanent)
}
