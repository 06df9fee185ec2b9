//! The one way the engine calls SmartSuite: take a permit from the API key's bucket, count the
//! call in the key's month, make the call, and on a 429 pause the key for everyone. SmartSuite
//! allows 5 requests a second per key (counted per clock second) and answers 429 with a 30 s
//! penalty; a Team plan's month holds 5,000 calls at full speed. Every connection and replica
//! using the key shares its bucket and its count, named by the key's fingerprint.

use std::future::Future;
use std::time::Duration;

use suiteflow_smartsuite_client::Error as SmartSuiteError;
use suiteflow_store::{Rate, Store, Take, bucket};
use time::OffsetDateTime;

use super::{BATCH_PERMIT_WAIT, wait_until};
use crate::failure::{Api, Failure, Wait, after};

/// SmartSuite's limit: requests per second and key.
pub const REQUESTS_PER_SECOND: u32 = 5;
/// Room for the difference between our clock and SmartSuite's seconds.
const WINDOW_MARGIN: Duration = Duration::from_millis(100);
/// The share of the monthly quota that makes the count a warning.
pub const QUOTA_WARNING: f64 = 0.8;

/// A SmartSuite API key's budget.
pub struct SmartSuiteBudget<'a> {
    store: &'a Store,
    key: String,
    penalty: Duration,
    max_wait: Duration,
    monthly_quota: Option<u64>,
}

impl<'a> SmartSuiteBudget<'a> {
    /// `key_fingerprint` names the key's bucket; `penalty` is how long a 429 pauses it (30 s
    /// at SmartSuite); `monthly_quota` the plan's calls per month, when known.
    pub fn new(
        store: &'a Store,
        key_fingerprint: &str,
        penalty: Duration,
        monthly_quota: Option<u64>,
    ) -> Self {
        Self {
            store,
            key: bucket::smartsuite_key(key_fingerprint),
            penalty,
            max_wait: BATCH_PERMIT_WAIT,
            monthly_quota,
        }
    }

    /// Waits up to `max_wait` for each permit (a person's command, or a 429's penalty).
    pub fn with_max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// Pays one permit, counts the call, then sends `request` (nothing is sent before it is
    /// awaited). `kind` names the call in `smartsuite_requests_total{kind}`. A 429 pauses the
    /// key for every replica.
    pub async fn call<T>(
        &self,
        kind: &'static str,
        request: impl Future<Output = Result<T, SmartSuiteError>>,
    ) -> Result<T, Failure> {
        self.permit().await?;
        metrics::counter!("smartsuite_requests_total", "kind" => kind).increment(1);
        let reply = request.await;
        if let Err(SmartSuiteError::RateLimited { .. }) = &reply {
            let until = after(self.penalty);
            let paused = async {
                let mut conn = self.store.get().await?;
                suiteflow_store::pause(&mut conn, &self.key, until).await
            };
            if let Err(e) = paused.await {
                tracing::warn!(error = %e, "could not record SmartSuite's pause");
            }
        }
        Ok(reply?)
    }

    /// The key's calls this month, by every connection and replica using it.
    pub async fn calls_this_month(&self) -> Result<u64, Failure> {
        let mut conn = self.store.get().await?;
        let calls = suiteflow_store::calls_this_month(&mut conn, &self.key).await?;
        Ok(u64::try_from(calls).unwrap_or(0))
    }

    /// Waits for a permit of the key's bucket, then counts the call in the key's month.
    async fn permit(&self) -> Result<(), Failure> {
        let rate = Rate::new(REQUESTS_PER_SECOND, Duration::from_secs(1) + WINDOW_MARGIN)
            // One at a time: SmartSuite counts per clock second, and a burst could put six
            // into one.
            .with_burst(1);
        let deadline = OffsetDateTime::now_utc() + self.max_wait;
        loop {
            let mut conn = self.store.get().await?;
            match suiteflow_store::take(&mut conn, &self.key, 1, rate).await? {
                Take::Granted { .. } => {
                    let calls = suiteflow_store::count_call(&mut conn, &self.key).await?;
                    self.check_quota(calls);
                    return Ok(());
                }
                Take::RetryAt(at) if at > deadline => {
                    metrics::counter!("worker_rate_limit_waits_total", "api" => "smartsuite")
                        .increment(1);
                    return Err(Failure::reschedule(
                        at,
                        Wait::RateLimit(Api::SmartSuite),
                        "the SmartSuite API key's budget is spent (or SmartSuite paused it)",
                    ));
                }
                Take::RetryAt(at) => {
                    drop(conn);
                    tokio::time::sleep(wait_until(at).max(Duration::from_millis(5))).await;
                }
            }
        }
    }

    /// Publishes the month's count (`smartsuite_calls_this_month{key}`, the key named by the
    /// start of its fingerprint) and warns once it passes 80 % of the quota (and each
    /// further 5 %).
    fn check_quota(&self, calls: i64) {
        let calls = u64::try_from(calls).unwrap_or(0);
        let key: String = self
            .key
            .chars()
            .skip("smartsuite:".len())
            .take(12)
            .collect();
        metrics::gauge!("smartsuite_calls_this_month", "key" => key).set(calls as f64);
        let Some(quota) = self.monthly_quota.filter(|q| *q > 0) else {
            return;
        };
        let threshold = (quota as f64 * QUOTA_WARNING).ceil() as u64;
        let step = (quota / 20).max(1);
        if calls >= threshold && (calls - threshold).is_multiple_of(step) {
            tracing::warn!(
                calls,
                quota,
                share = format!("{:.0} %", calls as f64 * 100.0 / quota as f64),
                "SmartSuite calls this month have passed 80 % of SMARTSUITE_MONTHLY_QUOTA"
            );
        }
    }
}
