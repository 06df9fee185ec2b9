//! Recording a batch's outcomes in one statement, each fenced by this worker's lease: success,
//! a skip, a retry with backoff (or the dead letter after the last attempt), a release without
//! spending an attempt, the connection stopped for its credentials or its mapping. A failure
//! becomes text (`error`) and data (`error_detail`) here, where it is stored.

use suiteflow_store::queue::{Settlement, settle};
use suiteflow_store::{Completion, ConnectionStatus, EventStatus, StoreError};
use suiteflow_sync::{Failure, FailureKind, Outcome};
use time::OffsetDateTime;

use crate::process::Processed;
use crate::runner::Worker;
use crate::spans::Spans;

/// How many of a batch's outcomes were successes and how many were not.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Recorded {
    pub succeeded: u64,
    pub failed: u64,
}

/// What the log and the metrics say of one event once its outcome is stored.
enum Report {
    Success {
        partial: bool,
        item: Option<String>,
    },
    Skipped(String),
    Rescheduled {
        until: OffsetDateTime,
        wait: &'static str,
        error: String,
    },
    Stopped {
        why: &'static str,
        error: String,
    },
    Retry {
        attempts: u32,
        delay_ms: u64,
        error: String,
        detail: String,
    },
    DeadLetter {
        attempts: u32,
        error: String,
        detail: String,
    },
}

impl Worker {
    /// Records the outcomes of a batch with one statement (a pull's outcome is already
    /// recorded by its own transaction). A connection stopped for its credentials or mapping
    /// is marked `error`. An event whose lease was lost is left as its new owner has it.
    pub(crate) async fn record(
        &self,
        processed: Vec<Processed>,
        spans: &Spans,
    ) -> Result<Recorded, StoreError> {
        let mut recorded = Recorded::default();
        let mut settlements = Vec::with_capacity(processed.len());
        let mut reports = Vec::with_capacity(processed.len());
        let mut stopped = Vec::new();
        let now = OffsetDateTime::now_utc();
        for Processed {
            event,
            outcome,
            schedule,
        } in processed
        {
            let elapsed = (now - event.queued_at).as_seconds_f64();
            let (settlement, report) = match outcome {
                Outcome::Recorded => {
                    let _span = spans.of(&event).entered();
                    finished(&event, "success", None, elapsed);
                    crate::metrics::event("success");
                    crate::metrics::event_duration(elapsed);
                    recorded.succeeded += 1;
                    continue;
                }
                Outcome::Done {
                    webflow_item_id,
                    warnings,
                    webflow_response,
                } => {
                    let partial = !warnings.is_empty();
                    let item = webflow_item_id.clone();
                    let completion = Completion {
                        webflow_item_id,
                        webflow_response,
                        warnings,
                    };
                    (
                        Settlement::Complete(completion),
                        Report::Success { partial, item },
                    )
                }
                Outcome::Skipped(reason) => (
                    Settlement::Skip {
                        reason: reason.clone(),
                    },
                    Report::Skipped(reason),
                ),
                Outcome::Failed(failure) => {
                    let (settlement, report) = failed(&failure, event.attempts, &schedule, now);
                    if matches!(report, Report::Stopped { .. }) {
                        stopped.push((event.connection_id, failure.to_string()));
                    }
                    (settlement, report)
                }
            };
            settlements.push((event.id, settlement));
            reports.push((event, report, elapsed));
        }
        let settled = {
            let mut conn = self.store().get().await?;
            settle(&mut conn, &self.id, &settlements).await?
        };
        for (event, report, elapsed) in reports {
            let _span = spans.of(&event).entered();
            let Some(status) = settled.status(event.id) else {
                recorded.failed += 1;
                tracing::warn!(event_id = %event.id.0, "could not record the outcome: another worker holds the event now");
                continue;
            };
            match report {
                Report::Success { partial, item } => {
                    recorded.succeeded += 1;
                    let outcome = if partial { "partial" } else { "success" };
                    finished(&event, outcome, item.as_deref(), elapsed);
                    crate::metrics::event(outcome);
                    crate::metrics::event_duration(elapsed);
                }
                Report::Skipped(reason) => {
                    recorded.succeeded += 1;
                    tracing::info!(
                        event_id = %event.id.0,
                        connection_id = %event.connection_id.0,
                        record_id = %event.external_id,
                        event_type = %event.event_type,
                        outcome = "skipped",
                        attempts = event.attempts,
                        duration_ms = (elapsed * 1000.0) as u64,
                        reason = %reason,
                        "event processed"
                    );
                    crate::metrics::event("skipped");
                }
                Report::Rescheduled { until, wait, error } => {
                    recorded.failed += 1;
                    let outcome = released(status);
                    tracing::info!(
                        event_id = %event.id.0,
                        connection_id = %event.connection_id.0,
                        record_id = %event.external_id,
                        event_type = %event.event_type,
                        outcome,
                        attempts = event.attempts,
                        waiting_for = wait,
                        until = %until,
                        error = %error,
                        "event processed"
                    );
                    crate::metrics::event(outcome);
                }
                Report::Stopped { why, error } => {
                    recorded.failed += 1;
                    tracing::error!(
                        event_id = %event.id.0,
                        connection_id = %event.connection_id.0,
                        record_id = %event.external_id,
                        event_type = %event.event_type,
                        outcome = released(status),
                        attempts = event.attempts,
                        error = %error,
                        "{why}; connection set to error"
                    );
                    crate::metrics::event(released(status));
                }
                Report::Retry {
                    attempts,
                    delay_ms,
                    error,
                    detail,
                } => {
                    recorded.failed += 1;
                    let outcome = if status == EventStatus::Skipped {
                        "skipped"
                    } else {
                        "failed"
                    };
                    tracing::info!(
                        event_id = %event.id.0,
                        connection_id = %event.connection_id.0,
                        record_id = %event.external_id,
                        event_type = %event.event_type,
                        outcome,
                        attempts,
                        retry_in_ms = delay_ms,
                        error = %error,
                        detail = %detail,
                        "event processed"
                    );
                    crate::metrics::event(outcome);
                }
                Report::DeadLetter {
                    attempts,
                    error,
                    detail,
                } => {
                    recorded.failed += 1;
                    tracing::warn!(
                        event_id = %event.id.0,
                        connection_id = %event.connection_id.0,
                        record_id = %event.external_id,
                        event_type = %event.event_type,
                        outcome = "dead_letter",
                        attempts,
                        error = %error,
                        detail = %detail,
                        "event processed"
                    );
                    crate::metrics::event("dead_letter");
                }
            }
        }
        if !stopped.is_empty() {
            let mut conn = self.store().get().await?;
            for (connection, message) in stopped {
                suiteflow_store::record_connection_error(
                    &mut conn,
                    connection,
                    &message,
                    Some(ConnectionStatus::Error),
                )
                .await?;
            }
        }
        Ok(recorded)
    }
}

/// The log line of an event written (or with nothing left to write): what it was, what became
/// of it, the Webflow item and how long after it was queued. No payload, no secret.
fn finished(event: &suiteflow_store::Event, outcome: &str, item: Option<&str>, elapsed: f64) {
    tracing::info!(
        event_id = %event.id.0,
        connection_id = %event.connection_id.0,
        record_id = %event.external_id,
        event_type = %event.event_type,
        outcome,
        attempts = event.attempts,
        webflow_item_id = item.unwrap_or(""),
        duration_ms = (elapsed * 1000.0) as u64,
        "event processed"
    );
}

/// The metric of an event given back to the queue (a superseded pull is skipped instead).
fn released(status: EventStatus) -> &'static str {
    if status == EventStatus::Skipped {
        "skipped"
    } else {
        "rescheduled"
    }
}

/// How a failure is stored, and what is said of it.
fn failed(
    failure: &Failure,
    attempts: i32,
    schedule: &crate::retry::RetrySchedule,
    now: OffsetDateTime,
) -> (Settlement, Report) {
    let message = failure.to_string();
    let detail = failure.detail().to_json();
    match failure.kind() {
        FailureKind::Reschedule { until, wait } => (
            Settlement::Release {
                why: Some((message.clone(), Some(detail))),
                retry_after: Some(until),
            },
            Report::Rescheduled {
                until,
                wait: wait.as_str(),
                error: message,
            },
        ),
        // A person must fix the credentials or the mapping: stop the connection, keep its
        // events.
        kind @ (FailureKind::Credentials | FailureKind::Mismatch) => (
            Settlement::Release {
                why: Some((message.clone(), Some(detail))),
                retry_after: None,
            },
            Report::Stopped {
                why: if kind == FailureKind::Mismatch {
                    "the mapping no longer fits the schemas"
                } else {
                    "credentials refused"
                },
                error: message,
            },
        ),
        FailureKind::Retry => {
            let attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
            if attempts >= schedule.max_attempts.max(1) {
                (
                    Settlement::DeadLetter {
                        message: message.clone(),
                        detail: Some(detail.clone()),
                    },
                    Report::DeadLetter {
                        attempts,
                        error: message,
                        detail: detail.to_string(),
                    },
                )
            } else {
                let delay = schedule.delay(attempts);
                (
                    Settlement::Fail {
                        message: message.clone(),
                        detail: Some(detail.clone()),
                        retry_after: now + delay,
                    },
                    Report::Retry {
                        attempts,
                        delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        error: message,
                        detail: detail.to_string(),
                    },
                )
            }
        }
        FailureKind::Permanent => (
            Settlement::DeadLetter {
                message: message.clone(),
                detail: Some(detail.clone()),
            },
            Report::DeadLetter {
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                error: message,
                detail: detail.to_string(),
            },
        ),
    }
}

/// Whether a failure counts against the connection's health (a rescheduled event was not at
/// fault, and a credentials error is recorded on its own).
pub(crate) fn counts_as_error(failure: &Failure) -> bool {
    matches!(failure.kind(), FailureKind::Retry | FailureKind::Permanent)
}
