//! The tower stack under the client: `Retry` (idempotent requests only) over `Timeout` over one
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
}

impl ApiRequest {
    /// GET, PATCH, DELETE (and PUT/HEAD) may be repeated; a POST (a create) never blindly.
    pub fn idempotent(&self) -> bool {
        matches!(
            self.method,
            Method::GET | Method::HEAD | Method::PATCH | Method::PUT | Method::DELETE
        )
    }
}

/// A whole answer: status, headers and the body already read.
#[derive(Debug)]
pub(crate) struct ApiResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The innermost service: one HTTP exchange with the bearer token.
#[derive(Clone)]
pub(crate) struct Exchange {
    pub http: reqwest::Client,
    pub token: SecretString,
}

impl Service<ApiRequest> for Exchange {
    type Response = ApiResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<ApiResponse, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: ApiRequest) -> Self::Future {
        let http = self.http.clone();
        let auth = HeaderValue::from_str(&format!("Bearer {}", self.token.expose()));
        Box::pin(async move {
            let mut auth = auth.map_err(|_| BoxError::from(InvalidToken))?;
            auth.set_sensitive(true);
            let mut builder = http
                .request(req.method, req.url)
                .header(header::AUTHORIZATION, auth)
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

/// The token cannot be put in a header (it has a control character); its value is not shown.
#[derive(Debug, thiserror::Error)]
#[error("the API token is not a valid header value")]
pub(crate) struct InvalidToken;

/// Retries transient failures (5xx, 408, timeouts, connection errors) of idempotent requests,
/// with exponential backoff. Cloned per request by tower, so `remaining` counts per request.
#[derive(Clone, Debug)]
pub(crate) struct RetryTransient {
    pub remaining: u32,
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl RetryTransient {
    fn transient(result: &Result<ApiResponse, BoxError>) -> bool {
        match result {
            Ok(response) => {
                response.status.is_server_error() || response.status == StatusCode::REQUEST_TIMEOUT
            }
            Err(error) => !error.is::<InvalidToken>(),
        }
    }
}

impl Policy<ApiRequest, ApiResponse, BoxError> for RetryTransient {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        req: &mut ApiRequest,
        result: &mut Result<ApiResponse, BoxError>,
    ) -> Option<Self::Future> {
        if !req.idempotent() || self.remaining == 0 || !Self::transient(result) {
            return None;
        }
        self.remaining -= 1;
        let wait = self.backoff;
        self.backoff = (self.backoff * 2).min(self.max_backoff);
        tracing::debug!(method = %req.method, path = req.url.path(), ?wait, "retrying a transient failure");
        Some(tokio::time::sleep(wait))
    }

    fn clone_request(&mut self, req: &ApiRequest) -> Option<ApiRequest> {
        (req.idempotent() && self.remaining > 0).then(|| req.clone())
    }
}
