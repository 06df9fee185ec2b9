//! The tower stack under the client: `Retry` over the per-key limiter over `Timeout` over one
//! reqwest exchange that reads the whole body.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use suiteflow_crypto::SecretString;
use tower::retry::Policy;
use tower::{BoxError, Service};

/// One request as the stack sees it: cheap to clone, so the retry layer can send it again.
#[derive(Clone, Debug)]
pub(crate) struct ApiRequest {
    pub method: Method,
    pub url: url::Url,
    pub body: Option<Bytes>,
    /// Safe to send twice: reads, including the read-only POSTs (`records/list/`, `ListEvents`).
    pub idempotent: bool,
}

/// A whole answer: status, headers and the body already read.
#[derive(Debug)]
pub(crate) struct ApiResponse {
    pub status: StatusCode,
    #[allow(dead_code)]
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The innermost service: one HTTP exchange with `Authorization: Token …` and `ACCOUNT-ID`.
#[derive(Clone)]
pub(crate) struct Exchange {
    pub http: reqwest::Client,
    pub account_id: String,
    pub api_key: SecretString,
}

/// The key or account id cannot be put in a header; the value is not shown.
#[derive(Debug, thiserror::Error)]
#[error("the API key or account id is not a valid header value")]
pub(crate) struct InvalidCredentials;

impl Service<ApiRequest> for Exchange {
    type Response = ApiResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<ApiResponse, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: ApiRequest) -> Self::Future {
        let http = self.http.clone();
        let auth = HeaderValue::from_str(&format!("Token {}", self.api_key.expose()));
        let account = HeaderValue::from_str(&self.account_id);
        Box::pin(async move {
            let (Ok(mut auth), Ok(account)) = (auth, account) else {
                return Err(BoxError::from(InvalidCredentials));
            };
            auth.set_sensitive(true);
            let mut builder = http
                .request(req.method, req.url)
                .header(header::AUTHORIZATION, auth)
                .header("ACCOUNT-ID", account)
                .header(header::ACCEPT, "application/json");
            if let Some(body) = req.body {
                builder = builder
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(body);
            }
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

/// Retries transient failures (5xx, 408, timeouts, connection errors) of idempotent requests
/// with exponential backoff, and — when configured — a 429 of any request (a 429 was not
/// applied; the limiter holds the retry until the key's pause is over).
#[derive(Clone, Debug)]
pub(crate) struct RetryPolicy {
    pub remaining: u32,
    pub rate_limited_remaining: u32,
    pub backoff: Duration,
    pub max_backoff: Duration,
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
            Err(e) => (!e.is::<InvalidCredentials>(), false),
        };
        if limited && self.rate_limited_remaining > 0 {
            self.rate_limited_remaining -= 1;
            return Some(tokio::time::sleep(Duration::ZERO));
        }
        if !transient || !req.idempotent || self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let wait = self.backoff;
        self.backoff = (self.backoff * 2).min(self.max_backoff);
        tracing::debug!(method = %req.method, path = req.url.path(), ?wait, "retrying a transient SmartSuite failure");
        Some(tokio::time::sleep(wait))
    }

    fn clone_request(&mut self, req: &ApiRequest) -> Option<ApiRequest> {
        ((req.idempotent && self.remaining > 0) || self.rate_limited_remaining > 0)
            .then(|| req.clone())
    }
}
