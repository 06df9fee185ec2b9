//! Errors a caller can act on. Nothing here ever holds the API key.

use std::time::Duration;

use serde_json::Value;

/// What went wrong with a SmartSuite call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 429: the key is paused (30 s by default) and every clone of the client waits it out.
    /// The request was not applied.
    #[error("SmartSuite rate limit reached; the key is paused for {retry_after:?}")]
    RateLimited { retry_after: Duration },
    /// 401: the API key is wrong.
    #[error("SmartSuite rejected the API key (401): {message}")]
    Unauthorized { message: String },
    /// 403: the key's member has no access to this resource.
    #[error("SmartSuite API key lacks access (403): {message}")]
    Forbidden { message: String },
    /// 404: unknown route, table, record, file or webhook (deleted records included).
    #[error("not found in SmartSuite (404): {message}")]
    NotFound { message: String },
    /// 400/422: the request is invalid (bad account id, filter, limit, missing field…).
    /// `details` is SmartSuite's body as JSON (a string when it was not JSON). `status` is 0
    /// when the client refused the request before sending it (e.g. a `limit` over 1000).
    #[error("SmartSuite rejected the request ({status}): {message}")]
    Validation {
        status: u16,
        message: String,
        details: Value,
    },
    /// 5xx, 408, a timeout or a connection failure: retrying later may succeed. When
    /// `outcome_unknown` is true a write may have been applied.
    #[error("transient SmartSuite failure{}: {reason}", status_suffix(*status))]
    Transient {
        status: Option<u16>,
        reason: String,
        outcome_unknown: bool,
    },
    /// Anything else, or an answer that could not be understood.
    #[error("SmartSuite request failed{}: {message}", status_suffix(*status))]
    Permanent {
        status: Option<u16>,
        message: String,
    },
    /// The client was built with an unusable setting.
    #[error("invalid SmartSuite client configuration: {0}")]
    Config(String),
}

impl Error {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Transient { .. })
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            Self::Transient {
                outcome_unknown: true,
                ..
            }
        )
    }

    pub fn is_credentials(&self) -> bool {
        matches!(self, Self::Unauthorized { .. } | Self::Forbidden { .. })
    }
}

fn status_suffix(status: Option<u16>) -> String {
    status.map(|s| format!(" ({s})")).unwrap_or_default()
}

/// Turns a non-2xx answer into an error variant.
pub(crate) fn classify(status: u16, body: &[u8], write: bool, pause: Duration) -> Error {
    let text = String::from_utf8_lossy(body);
    let details: Value =
        serde_json::from_slice(body).unwrap_or_else(|_| Value::String(text.trim().to_owned()));
    let message = ["detail", "message", "msg", "error"]
        .iter()
        .find_map(|k| details.get(*k).and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| match &details {
            Value::String(s) => s.chars().take(300).collect(),
            other => other.to_string().chars().take(300).collect(),
        });
    match status {
        429 => Error::RateLimited { retry_after: pause },
        401 => Error::Unauthorized { message },
        403 => Error::Forbidden { message },
        404 => Error::NotFound { message },
        400 | 422 => Error::Validation {
            status,
            message,
            details,
        },
        408 => Error::Transient {
            status: Some(status),
            reason: message,
            outcome_unknown: false,
        },
        500..=599 => Error::Transient {
            status: Some(status),
            reason: message,
            outcome_unknown: write,
        },
        _ => Error::Permanent {
            status: Some(status),
            message,
        },
    }
}

/// Turns a failure without an answer (timeout, connection) into `Transient`.
pub(crate) fn transport(error: &tower::BoxError, write: bool) -> Error {
    let failure = suiteflow_http::no_answer(error);
    Error::Transient {
        status: None,
        reason: failure.reason,
        outcome_unknown: write && failure.maybe_sent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_variants() {
        let pause = Duration::from_secs(30);
        assert_eq!(classify(429, b"", false, pause).retry_after(), Some(pause));
        assert!(
            matches!(classify(401, br#"{"detail":"Invalid token."}"#, false, pause), Error::Unauthorized { message } if message == "Invalid token.")
        );
        assert!(matches!(
            classify(403, b"", false, pause),
            Error::Forbidden { .. }
        ));
        assert!(matches!(
            classify(404, b"", false, pause),
            Error::NotFound { .. }
        ));
        let e = classify(400, b"Account ID is not specified", false, pause);
        assert!(
            matches!(&e, Error::Validation { message, .. } if message == "Account ID is not specified"),
            "{e:?}"
        );
        assert!(matches!(
            classify(422, br#"{"title":["required"]}"#, true, pause),
            Error::Validation { status: 422, .. }
        ));
        assert!(matches!(
            classify(503, b"", true, pause),
            Error::Transient {
                outcome_unknown: true,
                ..
            }
        ));
        assert!(matches!(
            classify(502, b"", false, pause),
            Error::Transient {
                outcome_unknown: false,
                ..
            }
        ));
        assert!(matches!(
            classify(418, b"", false, pause),
            Error::Permanent { .. }
        ));
    }
}
