//! Errors of the console's handlers: an HTML page for a person, JSON with a message for the
//! API. Every failure is logged. A failure of SmartSuite or Webflow is shown as the CLI shows it
//! (what the API answered is what the operator needs to act on; it never holds a secret); a
//! database failure is only said to have happened.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use suiteflow_store::StoreError;
use suiteflow_sync::Failure;
use suiteflow_sync::admin::AdminError;

/// Something the console depends on failed (the database, an API).
#[derive(Debug, thiserror::Error)]
pub enum Failed {
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Sync(#[from] Failure),
}

/// Why a request was not answered as asked.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// The request itself is wrong (a filter that is not a status, …): 400.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// The action does not apply now (an archived connection, an event still queued): 409.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Failed(#[from] Failed),
}

impl From<StoreError> for ConsoleError {
    fn from(e: StoreError) -> Self {
        Self::Failed(e.into())
    }
}

impl From<Failure> for ConsoleError {
    fn from(e: Failure) -> Self {
        Self::Failed(e.into())
    }
}

impl From<std::sync::Arc<Failed>> for ConsoleError {
    fn from(e: std::sync::Arc<Failed>) -> Self {
        Self::Failed(match std::sync::Arc::try_unwrap(e) {
            Ok(failed) => failed,
            Err(shared) => Failed::Sync(Failure::retry(shared.to_string())),
        })
    }
}

impl From<AdminError> for ConsoleError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Refused(message) => Self::Refused(message),
            AdminError::NotFound(message) => Self::NotFound(message),
            AdminError::Store(e) => Self::Failed(e.into()),
            AdminError::Secret(message) => Self::Failed(Failure::permanent(message).into()),
        }
    }
}

impl ConsoleError {
    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Refused(_) => StatusCode::CONFLICT,
            Self::Failed(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the answer says.
    fn message(&self) -> String {
        match self {
            Self::Failed(e) => {
                tracing::error!(error = %e, "console request failed");
                match e {
                    Failed::Sync(failure) => format!("the action failed: {failure}"),
                    Failed::Store(_) => {
                        "something failed on our side (the database); the console's log says what"
                            .to_string()
                    }
                }
            }
            other => other.to_string(),
        }
    }
}

/// A page's error: an HTML page.
#[derive(Debug)]
pub struct PageError(pub ConsoleError);

impl<E: Into<ConsoleError>> From<E> for PageError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.0.status()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.0.status();
        let body = crate::html::error_page(status, &self.0.message());
        HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body.into_string())
    }
}

/// An API error: `{"error": "…"}`.
#[derive(Debug)]
pub struct ApiError(pub ConsoleError);

impl<E: Into<ConsoleError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.0.status()
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.0.status()).json(serde_json::json!({"error": self.0.message()}))
    }
}
