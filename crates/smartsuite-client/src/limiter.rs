//! At most N requests in any sliding second per API key, and a pause of the whole key after a
//! 429. Shared by every client (and clone) that uses the same key against the same API base.
//! A sliding window (not a token bucket) is used because SmartSuite counts per clock second: a
//! bucket that allows a burst of 5 can put 6 requests into one clock second.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;
use tower::{BoxError, Layer, Service};

use suiteflow_http::{ApiRequest, ApiResponse};

#[derive(Debug)]
pub(crate) struct KeyLimiter {
    per_window: usize,
    window: Duration,
    state: Mutex<LimitState>,
}

#[derive(Debug, Default)]
struct LimitState {
    sent: VecDeque<Instant>,
    paused_until: Option<Instant>,
}

impl KeyLimiter {
    fn new(per_second: u32, margin: Duration) -> Self {
        Self {
            per_window: per_second.max(1) as usize,
            window: Duration::from_secs(1) + margin,
            state: Mutex::new(LimitState::default()),
        }
    }

    /// The limiter for this key and base, shared process-wide; settings of the first caller win.
    ///
    /// The registry keeps a limiter for as long as it remembers anything (a pause, or requests
    /// inside the window), even when no client holds it: a client rebuilt after a failure (the
    /// worker rebuilds a connection's clients when building its context failed) must not
    /// forget a pause SmartSuite imposed, nor the requests it just sent.
    pub fn shared(scope: &str, key: &str, per_second: u32, margin: Duration) -> Arc<Self> {
        static REGISTRY: OnceLock<Mutex<HashMap<Vec<u8>, Arc<KeyLimiter>>>> = OnceLock::new();
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(scope.as_bytes());
        ctx.update(&[0]);
        ctx.update(key.as_bytes());
        let id = ctx.finish().as_ref().to_vec();
        let registry = REGISTRY.get_or_init(Default::default);
        let mut map = registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.retain(|_, limiter| Arc::strong_count(limiter) > 1 || limiter.remembers());
        Arc::clone(
            map.entry(id)
                .or_insert_with(|| Arc::new(Self::new(per_second, margin))),
        )
    }

    /// Whether the limiter still holds state that matters: a pause, or requests in the window.
    fn remembers(&self) -> bool {
        let now = Instant::now();
        let state = self.lock();
        state.paused_until.is_some_and(|u| u > now)
            || state
                .sent
                .back()
                .is_some_and(|t| now.duration_since(*t) < self.window)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LimitState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits until a request may be sent, and counts it.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut state = self.lock();
                let now = Instant::now();
                match state.paused_until {
                    Some(until) if until > now => Some(until - now),
                    _ => {
                        state.paused_until = None;
                        while state
                            .sent
                            .front()
                            .is_some_and(|t| now.duration_since(*t) >= self.window)
                        {
                            state.sent.pop_front();
                        }
                        if state.sent.len() < self.per_window {
                            state.sent.push_back(now);
                            None
                        } else {
                            state
                                .sent
                                .front()
                                .map(|first| self.window.saturating_sub(now.duration_since(*first)))
                        }
                    }
                }
            };
            match wait {
                None => return,
                Some(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// Stops every request with this key for `pause`.
    pub fn pause(&self, pause: Duration) {
        let until = Instant::now() + pause;
        let mut state = self.lock();
        state.paused_until = Some(state.paused_until.map_or(until, |u| u.max(until)));
    }

    /// How long the key stays paused.
    pub fn paused_for(&self) -> Option<Duration> {
        let now = Instant::now();
        self.lock()
            .paused_until
            .filter(|u| *u > now)
            .map(|u| u - now)
    }
}

/// The tower layer: waits for the key's turn before sending, pauses the key on a 429.
#[derive(Clone, Debug)]
pub(crate) struct KeyLimitLayer {
    pub limiter: Arc<KeyLimiter>,
    pub pause: Duration,
}

impl<S> Layer<S> for KeyLimitLayer {
    type Service = KeyLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        KeyLimit {
            inner,
            limiter: Arc::clone(&self.limiter),
            pause: self.pause,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct KeyLimit<S> {
    inner: S,
    limiter: Arc<KeyLimiter>,
    pause: Duration,
}

impl<S> Service<ApiRequest> for KeyLimit<S>
where
    S: Service<ApiRequest, Response = ApiResponse, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = ApiResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<ApiResponse, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: ApiRequest) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let limiter = Arc::clone(&self.limiter);
        let pause = self.pause;
        Box::pin(async move {
            limiter.acquire().await;
            let response = tower::ServiceExt::ready(&mut inner)
                .await?
                .call(req)
                .await?;
            if response.status.as_u16() == 429 {
                tracing::warn!(?pause, "SmartSuite rate limit hit: pausing this API key");
                limiter.pause(pause);
            }
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn no_more_than_n_in_any_window() {
        let limiter = KeyLimiter::new(5, Duration::from_millis(50));
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..12 {
            limiter.acquire().await;
            times.push(start.elapsed());
        }
        for (i, t) in times.iter().enumerate().skip(5) {
            assert!(
                *t - times[i - 5] >= Duration::from_millis(1050),
                "{times:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_request() {
        let limiter = KeyLimiter::new(5, Duration::ZERO);
        limiter.pause(Duration::from_secs(30));
        assert!(limiter.paused_for().is_some());
        let start = Instant::now();
        limiter.acquire().await;
        assert!(start.elapsed() >= Duration::from_secs(30));
    }

    #[test]
    fn same_key_and_scope_share_one_limiter() {
        let a = KeyLimiter::shared("http://x/api", "k", 5, Duration::ZERO);
        let b = KeyLimiter::shared("http://x/api", "k", 5, Duration::ZERO);
        let c = KeyLimiter::shared("http://x/api", "other", 5, Duration::ZERO);
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_outlives_the_clients_that_hold_the_limiter() {
        let first = KeyLimiter::shared("http://x/api", "paused-key", 5, Duration::ZERO);
        first.pause(Duration::from_secs(30));
        drop(first);
        let rebuilt = KeyLimiter::shared("http://x/api", "paused-key", 5, Duration::ZERO);
        assert!(
            rebuilt.paused_for().is_some(),
            "a client rebuilt after a 429 must still wait"
        );
        drop(rebuilt);
        tokio::time::advance(Duration::from_secs(31)).await;
        let fresh = KeyLimiter::shared("http://x/api", "paused-key", 5, Duration::ZERO);
        assert!(fresh.paused_for().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn recent_requests_outlive_the_clients_that_sent_them() {
        let first = KeyLimiter::shared("http://x/api", "busy-key", 5, Duration::ZERO);
        for _ in 0..5 {
            first.acquire().await;
        }
        drop(first);
        let rebuilt = KeyLimiter::shared("http://x/api", "busy-key", 5, Duration::ZERO);
        let start = Instant::now();
        rebuilt.acquire().await;
        assert!(
            start.elapsed() >= Duration::from_millis(999),
            "the sixth request waits"
        );
    }
}
