//! The request body of a webhook, read within [`CLIENT_BODY_TIMEOUT`].
//!
//! actix-web bounds the time a client takes to send its request head
//! ([`crate::CLIENT_HEAD_TIMEOUT`]) but not its body: once the head is in, a handler that
//! extracts `web::Bytes` waits for the rest of the body for as long as the client keeps the
//! connection open. A client that announces `content-length: 1000` and stalls after 10 bytes
//! would hold a connection (and a handler) forever, and a few thousand such clients would
//! exhaust the server. [`Body`] is `web::Bytes` (same [`web::PayloadConfig`] limit, 413 and
//! decompression) with a deadline: a body not complete in time is answered 408 and the
//! connection is closed.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::time::Duration;

use actix_web::error::PayloadError;
use actix_web::{FromRequest, HttpRequest, dev, web};

use crate::error::ApiError;

/// How long a client has, from the end of its request head, to send the whole body. Webhook
/// bodies are small (1 MiB by default); at the largest `MAX_BODY_BYTES` (100 MiB) this still
/// allows a client sending 10 MB/s.
pub const CLIENT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// A request body received in full within [`CLIENT_BODY_TIMEOUT`]. Handlers take it as
/// `Result<Body, ApiError>`, so a refused body is counted in the metrics like any refusal.
pub struct Body(web::Bytes);

impl Deref for Body {
    type Target = web::Bytes;

    fn deref(&self) -> &web::Bytes {
        &self.0
    }
}

impl FromRequest for Body {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let read = web::Bytes::from_request(request, payload);
        Box::pin(async move {
            let refused = match tokio::time::timeout(CLIENT_BODY_TIMEOUT, read).await {
                Ok(Ok(body)) => return Ok(Body(body)),
                Ok(Err(e)) => match e.as_error::<PayloadError>() {
                    Some(PayloadError::Overflow) => ApiError::BodyTooLarge,
                    _ => ApiError::BadRequest("Request body could not be read"),
                },
                Err(_) => ApiError::BodyTimeout,
            };
            tracing::info!(
                outcome = "rejected",
                reason = refused.reason(),
                "webhook refused"
            );
            Err(refused)
        })
    }
}
