//! The one way to call Webflow: take a permit from the token's bucket and from the
//! connection's cap, make the call, observe the answer. Webflow counts its limit per API token,
//! so every connection and replica using one token draws from one bucket, named by the token's
//! fingerprint. The bucket follows the limit Webflow announces (`X-RateLimit-Limit`); until it
//! has, the connection's own rate. A 429 (or an exhausted `X-RateLimit-Remaining`) pauses the
//! bucket for every replica until Webflow's `Retry-After`.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use suiteflow_store::{Connection, Rate, Store, Take, bucket};
use suiteflow_webflow_client::{Error as WebflowError, RateInfo, Reply};
use time::OffsetDateTime;

use super::{BATCH_PERMIT_WAIT, wait_until};
use crate::failure::{Api, Failure, Wait, after};

/// A connection's Webflow budget for one batch of calls (or one command).
pub struct WebflowBudget<'a> {
    store: &'a Store,
    connection: &'a Connection,
    token_bucket: String,
    cap_bucket: String,
    window: Duration,
    max_wait: Duration,
    calls: AtomicU32,
    /// The last limit announced to the bucket by this budget (0: none yet).
    announced: AtomicU32,
}

impl<'a> WebflowBudget<'a> {
    /// `token_fingerprint` names the token's bucket; `window` is the window of the
    /// connection's `rate_limit_per_min` (a minute).
    pub fn new(
        store: &'a Store,
        connection: &'a Connection,
        token_fingerprint: &str,
        window: Duration,
    ) -> Self {
        Self {
            store,
            connection,
            token_bucket: bucket::webflow_token(token_fingerprint),
            cap_bucket: bucket::webflow_cap(connection.id),
            window,
            max_wait: BATCH_PERMIT_WAIT,
            calls: AtomicU32::new(0),
            announced: AtomicU32::new(0),
        }
    }

    /// Waits up to `max_wait` for each permit (a person's command that has nothing better to
    /// do than wait for the budget) instead of a batch's few seconds.
    pub fn with_max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// Calls made through this budget so far.
    pub fn calls(&self) -> u32 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Pays one permit, then sends `request` (a client call: nothing is sent before it is
    /// awaited) and observes the answer. The outer error: no permit now (the caller
    /// reschedules); the inner: Webflow's own answer, for callers that act on a particular
    /// refusal (a slug taken, an item gone).
    pub async fn send<T>(
        &self,
        request: impl Future<Output = Result<Reply<T>, WebflowError>>,
    ) -> Result<Result<T, WebflowError>, Failure> {
        self.permit().await?;
        let reply = request.await;
        Ok(self.observe(reply).await)
    }

    /// [`send`](Self::send), with Webflow's refusal as a failure too.
    pub async fn call<T>(
        &self,
        request: impl Future<Output = Result<Reply<T>, WebflowError>>,
    ) -> Result<T, Failure> {
        Ok(self.send(request).await??)
    }

    /// The connection's rate, in a window a sixtieth longer than the limit's: the bucket never
    /// grants more than the limit within one window, but a request can reach Webflow a little
    /// later than its permit was granted, and this keeps Webflow's own count under the limit.
    fn rate(&self) -> Rate {
        let per_minute = u32::try_from(self.connection.rate_limit_per_min.max(1)).unwrap_or(50);
        Rate::new(per_minute, self.window + self.window / 60)
    }

    /// Waits for a permit of the token's bucket and of the connection's cap; a wait longer than
    /// `max_wait` is a reschedule.
    async fn permit(&self) -> Result<(), Failure> {
        let deadline = OffsetDateTime::now_utc() + self.max_wait;
        loop {
            let retry_at = {
                let mut conn = self.store.get().await?;
                let token = self.rate().following_announced();
                match suiteflow_store::take(&mut conn, &self.token_bucket, 1, token).await? {
                    Take::RetryAt(at) => at,
                    Take::Granted { .. } => {
                        match suiteflow_store::take(&mut conn, &self.cap_bucket, 1, self.rate())
                            .await?
                        {
                            Take::Granted { .. } => {
                                self.calls.fetch_add(1, Ordering::Relaxed);
                                metrics::counter!("worker_webflow_requests_total").increment(1);
                                return Ok(());
                            }
                            Take::RetryAt(at) => {
                                // The token's permit is not used now: give it back.
                                suiteflow_store::refund(&mut conn, &self.token_bucket, 1).await?;
                                at
                            }
                        }
                    }
                }
            };
            if retry_at > deadline {
                metrics::counter!("worker_rate_limit_waits_total", "api" => "webflow").increment(1);
                return Err(Failure::reschedule(
                    retry_at,
                    Wait::RateLimit(Api::Webflow),
                    "the Webflow budget of the connection's token is spent",
                ));
            }
            tokio::time::sleep(wait_until(retry_at).max(Duration::from_millis(5))).await;
        }
    }

    /// Notes what the answer says about the limit: the limit Webflow announces, an exhausted
    /// window, a 429's pause. A failure to record it is logged; the answer stands.
    async fn observe<T>(&self, reply: Result<Reply<T>, WebflowError>) -> Result<T, WebflowError> {
        let (rate, pause) = match &reply {
            Ok(reply) => (Some(reply.rate), None),
            Err(WebflowError::RateLimited { retry_after, rate }) => {
                (Some(*rate), Some(after(*retry_after)))
            }
            Err(_) => (None, None),
        };
        if let Some(rate) = rate {
            self.note(&rate, pause).await;
        }
        reply.map(|r| r.value)
    }

    async fn note(&self, rate: &RateInfo, pause: Option<OffsetDateTime>) {
        let pause = pause.or_else(|| {
            (rate.remaining == Some(0))
                .then(|| after(rate.retry_after.unwrap_or(Duration::from_secs(1))))
        });
        let announce = rate
            .limit
            .filter(|l| *l > 0 && self.announced.swap(*l, Ordering::Relaxed) != *l);
        if pause.is_none() && announce.is_none() {
            return;
        }
        let noted = async {
            let mut conn = self.store.get().await?;
            if let Some(limit) = announce {
                suiteflow_store::announce_limit(&mut conn, &self.token_bucket, limit).await?;
            }
            if let Some(until) = pause {
                suiteflow_store::pause(&mut conn, &self.token_bucket, until).await?;
            }
            Ok::<_, suiteflow_store::StoreError>(())
        };
        if let Err(e) = noted.await {
            tracing::warn!(connection_id = %self.connection.id.0, error = %e, "could not record Webflow's rate limit");
        }
    }
}
