//! The ingress's answers to everything that is not an acceptance (the table in
//! docs/architecture.md, "The ingress"). A 503 says nothing about
//! the cause; the log has it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("connection not found")]
    ConnectionNotFound,
    #[error("connection not active")]
    ConnectionNotActive,
    #[error("invalid signature")]
    InvalidSignature,
    #[error("invalid timestamp")]
    InvalidTimestamp,
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// The body did not arrive within `CLIENT_BODY_TIMEOUT`.
    #[error("body not received in time")]
    BodyTimeout,
    /// The body is over `MAX_BODY_BYTES`.
    #[error("body too large")]
    BodyTooLarge,
    #[error("service unavailable")]
    Unavailable,
}

impl ApiError {
    /// The reason label of the `ingress_rejections_total` metric.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::ConnectionNotFound => "connection_not_found",
            Self::ConnectionNotActive => "connection_not_active",
            Self::InvalidSignature => "invalid_signature",
            Self::InvalidTimestamp => "invalid_timestamp",
            Self::BadRequest(_) => "bad_request",
            Self::BodyTimeout => "body_timeout",
            Self::BodyTooLarge => "body_too_large",
            Self::Unavailable => "unavailable",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::ConnectionNotFound => StatusCode::NOT_FOUND,
            Self::ConnectionNotActive => StatusCode::FORBIDDEN,
            Self::InvalidSignature | Self::InvalidTimestamp => StatusCode::UNAUTHORIZED,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            Self::ConnectionNotFound => "Connection not found",
            Self::ConnectionNotActive => "Connection not active",
            Self::InvalidSignature => "Invalid signature",
            Self::InvalidTimestamp => "Invalid timestamp",
            Self::BadRequest(what) => what,
            Self::BodyTimeout => "Request body not received in time",
            Self::BodyTooLarge => "Request body too large",
            Self::Unavailable => "Service unavailable",
        };
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, Self::BodyTimeout | Self::BodyTooLarge) {
            // The rest of the body is never read, so the connection cannot carry another
            // request.
            response.force_close();
        }
        response.json(json!({ "error": message }))
    }
}
