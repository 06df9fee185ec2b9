//! A connection's health (last success, error streak, last error) and its day's Webflow calls,
//! updated once per connection and batch.

use suiteflow_store::ConnectionId;
use suiteflow_sync::{ConnectionContext, Outcome};
use time::OffsetDateTime;

use crate::process::Processed;
use crate::record::counts_as_error;
use crate::retry::RetrySchedule;
use crate::runner::Worker;

impl Worker {
    /// Success resets the error streak; failures count and keep the message. The day's
    /// Webflow calls are added to `analytics_daily` (its event counts are kept by the database
    /// as each event's status changes, so each event is counted once).
    pub(crate) async fn update_health(
        &self,
        ctx: &ConnectionContext,
        processed: &[Processed],
        webflow_calls: u32,
    ) {
        let id = ctx.id();
        let mut succeeded = false;
        let mut last_error = None;
        for Processed { outcome, .. } in processed {
            match outcome {
                Outcome::Done { .. } | Outcome::Recorded => succeeded = true,
                Outcome::Failed(f) if counts_as_error(f) => last_error = Some(f.to_string()),
                Outcome::Skipped(_) | Outcome::Failed(_) => {}
            }
        }
        let mut conn = match self.store().get().await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(connection_id = %id.0, error = %e, "could not update connection health");
                return;
            }
        };
        let health = match &last_error {
            Some(message) => suiteflow_store::record_connection_error(&mut conn, id, message, None)
                .await
                .map(|_| ()),
            None if succeeded => suiteflow_store::record_connection_success(&mut conn, id).await,
            None => Ok(()),
        };
        if let Err(e) = health {
            tracing::warn!(connection_id = %id.0, error = %e, "could not update connection health");
        }
        if webflow_calls > 0 {
            let today = OffsetDateTime::now_utc().date();
            let calls = i32::try_from(webflow_calls).unwrap_or(i32::MAX);
            if let Err(e) = suiteflow_store::add_webflow_calls(&mut conn, id, today, calls).await {
                tracing::warn!(connection_id = %id.0, error = %e, "could not update daily analytics");
            }
        }
    }

    /// When to try a connection again whose context could not be built for a passing reason
    /// (its Webflow collection or SmartSuite table could not be read, or the database failed).
    /// The events themselves were not tried, so they spend no attempt and are never
    /// dead-lettered for it: they wait, and the oldest-event-age alert fires. The failure is
    /// recorded on the connection (`last_error_message`, `consecutive_errors`, shared by every
    /// replica), and the wait doubles with the streak up to `MAX_RETRY_BACKOFF_MS`, so an API
    /// that stays down is not asked again every second.
    pub(crate) async fn unusable_until(
        &self,
        id: ConnectionId,
        message: &str,
        schedule: RetrySchedule,
    ) -> OffsetDateTime {
        let streak = match self.store().get().await {
            Ok(mut conn) => suiteflow_store::record_connection_error(&mut conn, id, message, None)
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(connection_id = %id.0, error = %e, "could not record the connection's error");
                    1
                }),
            Err(e) => {
                tracing::warn!(connection_id = %id.0, error = %e, "could not record the connection's error");
                1
            }
        };
        let streak = u32::try_from(streak).unwrap_or(1);
        OffsetDateTime::now_utc() + schedule.delay(streak)
    }
}
