//! The one way to call Webflow: take a permit from the connection's shared budget, make the
//! call, observe the answer's rate headers. Every worker replica draws from the same bucket in
//! PostgreSQL; a pause Webflow asks for (a 429, or `X-RateLimit-Remaining: 0`) holds every
//! later call of this connection until it passes.

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use suiteflow_store::{Connection, Rate, Store, Take};
use suiteflow_webflow_client::{Error as WebflowError, RateInfo, Reply};
use time::OffsetDateTime;

use crate::failure::{Api, Failure, Wait, after};

/// Longest wait for a permit inside a batch; beyond it the events are rescheduled instead of
/// holding their claim.
const BATCH_PERMIT_WAIT: Duration = Duration::from_secs(5);

/// When Webflow asked a connection to wait; shared by the batches of one process.
pub type Pause = Mutex<Option<OffsetDateTime>>;

/// A connection's Webflow budget for one batch of calls.
pub struct WebflowBudget<'a> {
    store: &'a Store,
    connection: &'a Connection,
    window: Duration,
    pause: Option<&'a Pause>,
    max_wait: Duration,
    calls: AtomicU32,
}

impl<'a> WebflowBudget<'a> {
    /// `window` is the window of the connection's `rate_limit_per_min` (a minute); `pause`
    /// is where Webflow's requests to wait are kept (none for a one-off call).
    pub fn new(
        store: &'a Store,
        connection: &'a Connection,
        window: Duration,
        pause: Option<&'a Pause>,
    ) -> Self {
        Self {
            store,
            connection,
            window,
            pause,
            max_wait: BATCH_PERMIT_WAIT,
            calls: AtomicU32::new(0),
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
        Ok(self.observe(request.await))
    }

    /// [`send`](Self::send), with Webflow's refusal as a failure too.
    pub async fn call<T>(
        &self,
        request: impl Future<Output = Result<Reply<T>, WebflowError>>,
    ) -> Result<T, Failure> {
        Ok(self.send(request).await??)
    }

    /// Waits for a permit of the connection's shared bucket and for any pause Webflow asked
    /// for; a wait longer than `max_wait` is a reschedule.
    async fn permit(&self) -> Result<(), Failure> {
        let per_minute = u32::try_from(self.connection.rate_limit_per_min.max(1)).unwrap_or(50);
        // The bucket never grants more than the limit within one window, but a request can
        // reach Webflow a little later than its permit was granted; a window a sixtieth longer
        // (a second a minute) keeps Webflow's own count under the limit.
        let rate = Rate::new(per_minute, self.window + self.window / 60);
        let deadline = OffsetDateTime::now_utc() + self.max_wait;
        loop {
            let paused = self.pause.and_then(|p| p.lock().ok().and_then(|p| *p));
            let wait_until = match paused {
                Some(until) if until > OffsetDateTime::now_utc() => until,
                _ => {
                    let mut conn = self.store.get().await?;
                    let bucket = suiteflow_store::WEBFLOW_BUCKET;
                    match suiteflow_store::take(&mut conn, self.connection.id, bucket, 1, rate)
                        .await?
                    {
                        Take::Granted { .. } => {
                            self.calls.fetch_add(1, Ordering::Relaxed);
                            metrics::counter!("worker_webflow_requests_total").increment(1);
                            return Ok(());
                        }
                        Take::RetryAt(at) => at,
                    }
                }
            };
            if wait_until > deadline {
                metrics::counter!("worker_rate_limit_waits_total", "api" => "webflow").increment(1);
                return Err(Failure::reschedule(
                    wait_until,
                    Wait::RateLimit(Api::Webflow),
                    "the connection's Webflow budget is spent",
                ));
            }
            let wait =
                Duration::try_from(wait_until - OffsetDateTime::now_utc()).unwrap_or_default();
            tokio::time::sleep(wait.max(Duration::from_millis(5))).await;
        }
    }

    /// Notes the rate headers of an answer; a 429 pauses the connection for its
    /// `Retry-After`.
    fn observe<T>(&self, reply: Result<Reply<T>, WebflowError>) -> Result<T, WebflowError> {
        match reply {
            Ok(reply) => {
                self.note_rate(&reply.rate);
                Ok(reply.value)
            }
            Err(e) => {
                if let WebflowError::RateLimited { retry_after, .. } = &e {
                    self.pause_until(after(*retry_after));
                }
                Err(e)
            }
        }
    }

    fn note_rate(&self, rate: &RateInfo) {
        if rate.remaining == Some(0) {
            self.pause_until(after(rate.retry_after.unwrap_or(Duration::from_secs(1))));
        }
    }

    fn pause_until(&self, until: OffsetDateTime) {
        if let Some(Ok(mut pause)) = self.pause.map(Mutex::lock) {
            *pause = Some(pause.map_or(until, |p| p.max(until)));
        }
    }
}
