#![doc = include_str!("../README.md")]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use tower::retry::Policy;
use tower::retry::backoff::{
    Backoff as _, ExponentialBackoff, ExponentialBackoffMaker, InvalidBackoff, MakeBackoff as _,
};
use tower::{BoxError, Service};

/// Installs rustls' ring crypto provider as the process default, once; later calls do nothing.
/// reqwest is built without a provider of its own and panics without one. The client builders
/// call this themselves; binaries may call it early.
pub fn install_crypto_provider() {
    // An error only means a provider is already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// One request as the stack sees it: cheap to clone, so the retry layer can send it again.
#[derive(Clone, Debug)]
pub struct ApiRequest {
    pub method: Method,
    pub url: url::Url,
    pub body: Option<Bytes>,
    /// Safe to send twice. [`ApiRequest::new`] derives it from the method; an API whose reads
    /// are POSTs (SmartSuite's `records/list/`) sets it itself.
    pub idempotent: bool,
}

impl ApiRequest {
    /// GET, HEAD, PATCH, PUT and DELETE may be repeated; a POST (a create) is not.
    pub fn new(method: Method, url: url::Url, body: Option<Bytes>) -> Self {
        let idempotent = matches!(
            method,
            Method::GET | Method::HEAD | Method::PATCH | Method::PUT | Method::DELETE
        );
        Self {
            method,
            url,
            body,
            idempotent,
        }
    }
}

/// A whole answer: status, headers and the body already read.
#[derive(Debug)]
pub struct ApiResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A credential that cannot be put in a header (it has a control character); its value is not
/// shown.
#[derive(Debug, thiserror::Error)]
#[error("the {0} header value is not a valid header value")]
pub struct InvalidHeader(pub HeaderName);

/// The innermost service: one HTTP exchange carrying the API's credential headers.
#[derive(Clone)]
pub struct Exchange {
    http: reqwest::Client,
    headers: HeaderMap,
}

impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exchange")
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Exchange {
    /// Every request carries `credentials` (marked sensitive) and `Accept: application/json`.
    pub fn new(
        http: reqwest::Client,
        credentials: impl IntoIterator<Item = (HeaderName, String)>,
    ) -> Result<Self, InvalidHeader> {
        let mut headers = HeaderMap::new();
        for (name, value) in credentials {
            let mut value =
                HeaderValue::from_str(&value).map_err(|_| InvalidHeader(name.clone()))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        Ok(Self { http, headers })
    }
}

impl Service<ApiRequest> for Exchange {
    type Response = ApiResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<ApiResponse, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: ApiRequest) -> Self::Future {
        let mut builder = self
            .http
            .request(req.method, req.url)
            .headers(self.headers.clone());
        if let Some(body) = req.body {
            builder = builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        Box::pin(async move {
            let response = builder.send().await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            Ok(ApiResponse {
                status,
                headers,
                body,
            })
        })
    }
}

/// Up to this share of a wait is added at random, so that clients failing together do not
/// retry together.
const RETRY_JITTER: f64 = 0.3;

/// tower's `Retry` policy: transient failures (5xx, 408, timeouts, connection errors) of
/// idempotent requests are sent again after tower's jittered exponential backoff, and a 429 of
/// any request is sent again at once, up to `rate_limited_retries` times: a 429 was not
/// applied, and this is only for a stack with a layer below that holds the retry until the
/// API's pause is over (SmartSuite's key limiter). Cloned per request by tower, so the counts
/// and the backoff are per request.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    remaining: u32,
    rate_limited_remaining: u32,
    backoff: ExponentialBackoff,
}

impl RetryPolicy {
    /// `retries` attempts more for a transient failure, waiting `first`, then twice as long
    /// each time up to `max` (each plus up to 30 %, within `max`); `rate_limited_retries` for a
    /// 429. Refused when `max` is zero or below `first`.
    pub fn new(
        retries: u32,
        rate_limited_retries: u32,
        first: Duration,
        max: Duration,
    ) -> Result<Self, InvalidBackoff> {
        let mut maker = ExponentialBackoffMaker::new(first, max, RETRY_JITTER, Default::default())?;
        Ok(Self {
            remaining: retries,
            rate_limited_remaining: rate_limited_retries,
            backoff: maker.make_backoff(),
        })
    }
}

impl Policy<ApiRequest, ApiResponse, BoxError> for RetryPolicy {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        req: &mut ApiRequest,
        result: &mut Result<ApiResponse, BoxError>,
    ) -> Option<Self::Future> {
        let (transient, limited) = match result {
            Ok(r) => (
                r.status.is_server_error() || r.status == StatusCode::REQUEST_TIMEOUT,
                r.status == StatusCode::TOO_MANY_REQUESTS,
            ),
            Err(_) => (true, false),
        };
        if limited && self.rate_limited_remaining > 0 {
            self.rate_limited_remaining -= 1;
            return Some(tokio::time::sleep(Duration::ZERO));
        }
        if !transient || !req.idempotent || self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        tracing::debug!(method = %req.method, host = req.url.host_str(), path = req.url.path(), "retrying a transient failure");
        Some(self.backoff.next_backoff())
    }

    fn clone_request(&mut self, req: &ApiRequest) -> Option<ApiRequest> {
        ((req.idempotent && self.remaining > 0) || self.rate_limited_remaining > 0)
            .then(|| req.clone())
    }
}

/// A failure without an answer, explained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoAnswer {
    /// What happened, with the whole error chain (no request data).
    pub reason: String,
    /// The request may have reached the server: false only when no connection was made.
    pub maybe_sent: bool,
}

/// What a failure of the stack (timeout, connection, I/O) means.
pub fn no_answer(error: &BoxError) -> NoAnswer {
    if error.is::<tower::timeout::error::Elapsed>() {
        return NoAnswer {
            reason: "no answer within the timeout".into(),
            maybe_sent: true,
        };
    }
    let Some(e) = error.downcast_ref::<reqwest::Error>() else {
        return NoAnswer {
            reason: error.to_string(),
            maybe_sent: true,
        };
    };
    let mut reason = if e.is_connect() {
        "could not connect"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_body() || e.is_decode() {
        "connection lost while reading the answer"
    } else {
        "connection lost while sending the request"
    }
    .to_owned();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        reason.push_str(": ");
        reason.push_str(&s.to_string());
        source = s.source();
    }
    NoAnswer {
        reason,
        // A failed connect never reached the server; anything later may have.
        maybe_sent: !e.is_connect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method) -> ApiRequest {
        ApiRequest::new(
            method,
            "http://127.0.0.1:9/x"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
            None,
        )
    }

    fn answer(status: u16) -> Result<ApiResponse, BoxError> {
        Ok(ApiResponse {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        })
    }

    fn policy(rate_limited: u32) -> RetryPolicy {
        RetryPolicy::new(
            2,
            rate_limited,
            Duration::from_millis(100),
            Duration::from_millis(150),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    // Paused: the clock does not move, so a sleep's deadline is exactly now + its wait.
    #[tokio::test(start_paused = true)]
    async fn transient_failures_of_idempotent_requests_are_retried_with_growing_waits() {
        let mut p = policy(0);
        let mut get = request(Method::GET);
        // 100 ms plus up to 30 %, then doubled but capped at 150 ms (jitter stays within it).
        for (least, most) in [(100, 130), (150, 150)] {
            let sleep = p.retry(&mut get, &mut answer(503));
            let wait = sleep
                .map(|s| s.deadline() - tokio::time::Instant::now())
                .unwrap_or_default();
            assert!(
                wait >= Duration::from_millis(least) && wait <= Duration::from_millis(most),
                "{wait:?} not in {least}..={most} ms"
            );
        }
        assert!(
            p.retry(&mut get, &mut answer(503)).is_none(),
            "two retries, then none"
        );
        assert!(policy(0).retry(&mut get, &mut answer(408)).is_some());
        assert!(
            policy(0)
                .retry(&mut get, &mut Err("reset".into()))
                .is_some()
        );
        assert!(policy(0).retry(&mut get, &mut answer(404)).is_none());
        assert!(policy(0).retry(&mut get, &mut answer(200)).is_none());
    }

    #[tokio::test]
    async fn a_create_is_never_sent_twice_but_a_rate_limited_one_may_be() {
        let mut post = request(Method::POST);
        assert!(!post.idempotent);
        assert!(policy(0).retry(&mut post, &mut answer(503)).is_none());
        assert!(policy(0).clone_request(&post).is_none());
        assert!(policy(0).retry(&mut post, &mut answer(429)).is_none());
        let mut p = policy(1);
        assert!(p.clone_request(&post).is_some());
        assert!(p.retry(&mut post, &mut answer(429)).is_some());
        assert!(
            p.retry(&mut post, &mut answer(429)).is_none(),
            "one 429 retry"
        );
    }

    #[test]
    fn credentials_are_checked_up_front_and_never_shown() {
        install_crypto_provider();
        let bad = Exchange::new(
            reqwest::Client::new(),
            [(header::AUTHORIZATION, "Token se\ncret".to_string())],
        );
        let message = bad.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("authorization"), "{message}");
        assert!(!message.contains("cret"), "{message}");
        let good = Exchange::new(
            reqwest::Client::new(),
            [(header::AUTHORIZATION, "Token secret".to_string())],
        );
        let shown = format!("{good:?}");
        assert!(good.is_ok() && !shown.contains("secret"), "{shown}");
    }

    #[test]
    fn a_timeout_may_have_been_sent() {
        let failure = no_answer(&BoxError::from(tower::timeout::error::Elapsed::new()));
        assert_eq!(
            failure,
            NoAnswer {
                reason: "no answer within the timeout".into(),
                maybe_sent: true
            }
        );
    }
}
