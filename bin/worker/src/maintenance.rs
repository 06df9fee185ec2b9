//! Housekeeping, one worker at a time (by lock): purge finished events and audit entries past
//! their retention, forget workers unseen for a day, queue a
//! keep-alive pull for every SmartSuite webhook not pulled for a day (SmartSuite expires a
//! webhook that is not read for 7 days; paused connections and connections in error included),
//! check (and repair) the SmartSuite webhooks due for a check, and forget expired SmartSuite
//! file URLs.

use std::time::Duration;

use suiteflow_store::{NewEvent, StoreError};
use time::OffsetDateTime;

use crate::runner::Worker;

const MAINTENANCE_LOCK: &str = "worker.maintenance";
/// A SmartSuite webhook is kept alive by a pull at least this often.
const KEEP_ALIVE_EVERY: time::Duration = time::Duration::days(1);
/// Webhooks checked per maintenance run (a run every minute): the checks of many connections
/// spread over several runs.
const WEBHOOK_CHECKS_PER_RUN: i64 = 10;
/// A worker whose heartbeat is older than this is gone: its row is removed.
const FORGET_WORKERS_AFTER: time::Duration = time::Duration::days(1);
/// Rows deleted per statement by the purges.
const PURGE_BATCH: u32 = 1000;

impl Worker {
    pub async fn maintenance(&self) -> Result<(), StoreError> {
        let mut conn = self.store().get().await?;
        let lease = Duration::from_secs(300);
        if suiteflow_store::acquire_lock(&mut conn, MAINTENANCE_LOCK, &self.id, lease)
            .await?
            .is_none()
        {
            return Ok(());
        }
        let now = OffsetDateTime::now_utc();
        let retention = time::Duration::days(i64::from(self.settings.worker.retention_days));
        let purged = suiteflow_store::queue::purge_finished_all(
            &mut conn,
            now - retention,
            PURGE_BATCH,
            false,
        )
        .await?;
        let audit_retention =
            time::Duration::days(i64::from(self.settings.worker.audit_retention_days));
        // The audit log and the heartbeats wait for the next run if they fail: the keep-alive
        // pulls and the webhook checks below matter more.
        let audit_purged =
            suiteflow_store::purge_audit(&mut conn, now - audit_retention, PURGE_BATCH)
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "could not purge the audit log");
                    0
                });
        let workers_forgotten =
            suiteflow_store::forget_workers_unseen_since(&mut conn, now - FORGET_WORKERS_AFTER)
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "could not remove the workers gone for a day");
                    0
                });
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
        let expired_urls = suiteflow_store::purge_expired_file_urls(&mut conn).await?;
        let interval = time::Duration::try_from(self.settings.worker.webhook_check_interval)
            .unwrap_or(time::Duration::HOUR);
        let due = suiteflow_store::webhooks_due_for_check(
            &mut conn,
            OffsetDateTime::now_utc() - interval,
            WEBHOOK_CHECKS_PER_RUN,
        )
        .await?;
        drop(conn);
        let checked = self.check_webhooks(&due).await;
        let mut conn = self.store().get().await?;
        suiteflow_store::release_lock(&mut conn, MAINTENANCE_LOCK, &self.id).await?;
        if purged > 0
            || audit_purged > 0
            || workers_forgotten > 0
            || !pulls.is_empty()
            || expired_urls > 0
            || checked > 0
        {
            tracing::info!(
                purged,
                audit_purged,
                workers_forgotten,
                keep_alive_pulls = pulls.len(),
                expired_urls,
                webhooks_checked = checked,
                "maintenance done"
            );
        }
        Ok(())
    }

    /// Checks (and repairs) each connection's SmartSuite webhook; returns how many were
    /// checked. A check that fails is recorded as such and does not stop the others.
    async fn check_webhooks(&self, due: &[suiteflow_store::Connection]) -> usize {
        let mut checked = 0;
        for connection in due {
            let result = suiteflow_sync::webhooks::check_and_repair(
                self.store(),
                self.engine.connector(),
                connection,
                &self.settings.public_url,
            )
            .await;
            match result {
                Ok(Some(check)) => {
                    checked += 1;
                    if check.status != suiteflow_store::WebhookStatus::Ok {
                        tracing::warn!(connection_id = %connection.id.0, status = %check.status, detail = %check.detail, "SmartSuite webhook is not healthy");
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(connection_id = %connection.id.0, error = %e, "could not check the SmartSuite webhook");
                }
            }
        }
        checked
    }
}
