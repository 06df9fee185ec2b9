//! Housekeeping, one worker at a time (by lock): purge finished events past retention, queue a
//! keep-alive pull for every SmartSuite webhook not pulled for a day (SmartSuite expires a
//! webhook that is not read for 7 days), and forget expired SmartSuite file URLs.

use std::time::Duration;

use suiteflow_store::{NewEvent, StoreError};
use time::OffsetDateTime;

use crate::runner::Worker;

const MAINTENANCE_LOCK: &str = "worker.maintenance";
/// A SmartSuite webhook is kept alive by a pull at least this often.
const KEEP_ALIVE_EVERY: time::Duration = time::Duration::days(1);

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
        let expired_urls = suiteflow_store::purge_expired_file_urls(&mut conn).await?;
        suiteflow_store::release_lock(&mut conn, MAINTENANCE_LOCK, &self.id).await?;
        if purged > 0 || !pulls.is_empty() || expired_urls > 0 {
            tracing::info!(
                purged,
                keep_alive_pulls = pulls.len(),
                expired_urls,
                "maintenance done"
            );
        }
        Ok(())
    }
}
