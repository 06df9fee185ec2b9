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
struct Report {
    /// The outcome as the metric and the log name it (`success`, `partial`, `skipped`,
    /// `rescheduled`, `failed`, `dead_letter`); an event given back to the queue that was
    /// skipped instead (a superseded pull) is named `skipped` once its status is known.
    outcome: &'static str,
    level: tracing::Level,
    item: Option<String>,
    /// Why: the error in words, or the reason of a skip.
    error: Option<String>,
    /// The typed failure's detail, as stored.
    detail: Option<String>,
    /// What happens next (a retry's delay, what a rescheduled event waits for).
    next: Option<String>,
    /// The failure counts as one (a success, a skip do not).
    failed: bool,
    /// A person must fix the connection (credentials, mapping): it is set to `error` with
    /// this message.
    stops_connection: Option<String>,
}

impl Report {
    fn success(partial: bool, item: Option<String>) -> Self {
        Self {
            outcome: if partial { "partial" } else { "success" },
            level: tracing::Level::INFO,
            item,
            error: None,
            detail: None,
            next: None,
            failed: false,
            stops_connection: None,
        }
    }

    /// Nothing needed writing, for `reason`.
    fn skipped(reason: String) -> Self {
        Self {
            failed: false,
            ..Self::failure("skipped", tracing::Level::INFO, reason)
        }
    }

    fn failure(outcome: &'static str, level: tracing::Level, error: String) -> Self {
        Self {
            outcome,
            level,
            item: None,
            error: Some(error),
            detail: None,
            next: None,
            failed: true,
            stops_connection: None,
        }
    }

    /// The line: one per event, at info (a dead letter warns, a stopped connection is an
    /// error), with the event, its outcome, attempts, item and time since it was queued. No
    /// payload, no secret.
    fn log(&self, event: &suiteflow_store::Event, elapsed: f64) {
        macro_rules! line {
            ($level:expr) => {
                tracing::event!(
                    $level,
                    event_id = %event.id.0,
                    connection_id = %event.connection_id.0,
                    record_id = %event.external_id,
                    event_type = %event.event_type,
                    outcome = self.outcome,
                    attempts = event.attempts,
                    webflow_item_id = self.item.as_deref().unwrap_or(""),
                    duration_ms = (elapsed * 1000.0) as u64,
                    error = self.error.as_deref(),
                    detail = self.detail.as_deref(),
                    next = self.next.as_deref(),
                    "event processed"
                )
            };
        }
        match self.level {
            tracing::Level::ERROR => line!(tracing::Level::ERROR),
            tracing::Level::WARN => line!(tracing::Level::WARN),
            _ => line!(tracing::Level::INFO),
        }
    }
}

/// Says what the claim did with the events it found superseded (already stored as `skipped`):
/// their line, in their own trace, and the `skipped` metric.
pub(crate) fn report_superseded(events: &[suiteflow_store::Event]) {
    let spans = Spans::new(events);
    let now = OffsetDateTime::now_utc();
    for event in events {
        let _span = spans.of(event).entered();
        let reason = event.error.clone().unwrap_or_else(|| "superseded".into());
        Report::skipped(reason).log(event, (now - event.queued_at).as_seconds_f64());
        crate::metrics::event("skipped");
    }
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
        let mut stopped = std::collections::HashMap::new();
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
                    Report::success(false, None).log(&event, elapsed);
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
                        Report::success(partial, item),
                    )
                }
                Outcome::Skipped(reason) => (
                    Settlement::Skip {
                        reason: reason.clone(),
                    },
                    Report::skipped(reason),
                ),
                Outcome::Failed(failure) => failed(&failure, event.attempts, &schedule, now),
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
            // An event given back to the queue may have been skipped instead (a pull superseded
            // by the connection's pending one, which reads from the same cursor): not a failure.
            let report = if status == EventStatus::Skipped {
                Report {
                    outcome: "skipped",
                    level: tracing::Level::INFO,
                    failed: false,
                    ..report
                }
            } else {
                report
            };
            if report.failed {
                recorded.failed += 1;
            } else {
                recorded.succeeded += 1;
            }
            report.log(&event, elapsed);
            if let Some(message) = &report.stops_connection {
                // Only for an event this worker still held: its connection, once per batch.
                stopped
                    .entry(event.connection_id)
                    .or_insert_with(|| message.clone());
            }
            crate::metrics::event(report.outcome);
            if matches!(report.outcome, "success" | "partial") {
                crate::metrics::event_duration(elapsed);
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

/// How a failure is stored, and what is said of it.
fn failed(
    failure: &Failure,
    attempts: i32,
    schedule: &crate::retry::RetrySchedule,
    now: OffsetDateTime,
) -> (Settlement, Report) {
    let message = failure.to_string();
    let detail = failure.detail().to_json();
    let report = |outcome, level, next: Option<String>| Report {
        detail: Some(detail.to_string()),
        next,
        ..Report::failure(outcome, level, message.clone())
    };
    match failure.kind() {
        FailureKind::Reschedule { until, wait } => (
            Settlement::Release {
                why: Some((message.clone(), Some(detail.clone()))),
                retry_after: Some(until),
            },
            report(
                "rescheduled",
                tracing::Level::INFO,
                Some(format!("waiting for {} until {until}", wait.as_str())),
            ),
        ),
        // A person must fix the credentials or the mapping: stop the connection, keep its
        // events.
        kind @ (FailureKind::Credentials | FailureKind::Mismatch) => {
            let why = if kind == FailureKind::Mismatch {
                "the mapping no longer fits the schemas; connection set to error"
            } else {
                "credentials refused; connection set to error"
            };
            (
                Settlement::Release {
                    why: Some((message.clone(), Some(detail.clone()))),
                    retry_after: None,
                },
                Report {
                    stops_connection: Some(message.clone()),
                    ..report("rescheduled", tracing::Level::ERROR, Some(why.to_string()))
                },
            )
        }
        FailureKind::Retry => {
            let attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
            if attempts >= schedule.max_attempts.max(1) {
                (
                    Settlement::DeadLetter {
                        message: message.clone(),
                        detail: Some(detail.clone()),
                    },
                    report(
                        "dead_letter",
                        tracing::Level::WARN,
                        Some("dead-lettered after the last attempt".into()),
                    ),
                )
            } else {
                let delay = schedule.delay(attempts);
                (
                    Settlement::Fail {
                        message: message.clone(),
                        detail: Some(detail.clone()),
                        retry_after: now + delay,
                    },
                    report(
                        "failed",
                        tracing::Level::INFO,
                        Some(format!("retry in {} ms", delay.as_millis())),
                    ),
                )
            }
        }
        FailureKind::Permanent => (
            Settlement::DeadLetter {
                message: message.clone(),
                detail: Some(detail.clone()),
            },
            report("dead_letter", tracing::Level::WARN, None),
        ),
    }
}

/// Whether a failure counts against the connection's health (a rescheduled event was not at
/// fault, and a credentials error is recorded on its own).
pub(crate) fn counts_as_error(failure: &Failure) -> bool {
    matches!(failure.kind(), FailureKind::Retry | FailureKind::Permanent)
}
