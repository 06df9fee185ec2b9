//! Errors a caller can act on: the variant says whether to retry, reschedule, fix the data or
//! give up. Nothing here ever holds the token.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::RateInfo;

/// What went wrong with a Webflow call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 429: wait `retry_after` (Webflow's `Retry-After`, 60 s when absent) and try again. The
    /// request was not applied.
    #[error("Webflow rate limit reached; retry after {retry_after:?}")]
    RateLimited {
        retry_after: Duration,
        rate: RateInfo,
    },
    /// 401: the token is missing, wrong or expired.
    #[error("Webflow rejected the token (401): {message}")]
    Unauthorized { message: String },
    /// 403: the token lacks a scope or access to this site.
    #[error("Webflow token lacks access (403): {message}")]
    Forbidden { message: String },
    /// 404: the site, collection or item does not exist (a repeated DELETE lands here too).
    #[error("not found in Webflow (404): {message}")]
    NotFound { message: String },
    /// 400 (or 422) with `details` naming `slug` as "Unique value is already in database":
    /// another item of the collection has this slug. `status` and `code` are Webflow's own.
    #[error("slug {slug:?} is already used in this collection")]
    SlugTaken {
        slug: String,
        status: u16,
        code: Option<String>,
        details: Vec<ErrorDetail>,
    },
    /// 400/422: the request or its `fieldData` is invalid. Do not retry the same body.
    /// `status` is `None` when the client refused the request before sending it; `code` is
    /// Webflow's own (`validation_error`, …).
    #[error("Webflow rejected the data{}: {message}{}", status_suffix(*status), join_details(details))]
    Validation {
        status: Option<u16>,
        code: Option<String>,
        message: String,
        details: Vec<ErrorDetail>,
    },
    /// 409 on a live PATCH: the item was never published. Update it staged, then publish it.
    #[error("live update of an item that was never published: {message}")]
    NeverPublished { message: String },
    /// 5xx, 408, a timeout or a connection failure: retrying later may succeed. When
    /// `outcome_unknown` is true the request may have been applied (a create that timed out
    /// after it was sent): look the item up by slug before creating it again.
    #[error("transient Webflow failure{}: {reason}", status_suffix(*status))]
    Transient {
        status: Option<u16>,
        reason: String,
        outcome_unknown: bool,
    },
    /// Anything else: another 4xx, or an answer that could not be understood. `code` is
    /// Webflow's own, when its answer had one.
    #[error("Webflow request failed{}: {message}", status_suffix(*status))]
    Permanent {
        status: Option<u16>,
        code: Option<String>,
        message: String,
    },
    /// The client was built with an unusable setting (base URL, token characters, TLS).
    #[error("invalid Webflow client configuration: {0}")]
    Config(String),
}

impl Error {
    /// True for the variants a later attempt may fix without changing the request.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Transient { .. })
    }

    /// How long Webflow asked to wait, for `RateLimited`.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// True when the request may have been applied although no answer came back.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            Self::Transient {
                outcome_unknown: true,
                ..
            }
        )
    }

    /// 401 or 403: the connection's credentials need attention.
    pub fn is_credentials(&self) -> bool {
        matches!(self, Self::Unauthorized { .. } | Self::Forbidden { .. })
    }

    /// The HTTP status Webflow answered with; `None` when no answer came back or the client
    /// refused the request itself.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::RateLimited { .. } => Some(429),
            Self::Unauthorized { .. } => Some(401),
            Self::Forbidden { .. } => Some(403),
            Self::NotFound { .. } => Some(404),
            Self::SlugTaken { status, .. } => Some(*status),
            Self::NeverPublished { .. } => Some(409),
            Self::Validation { status, .. }
            | Self::Transient { status, .. }
            | Self::Permanent { status, .. } => *status,
            Self::Config(_) => None,
        }
    }

    /// Webflow's error `code` (`validation_error`, …), when its answer carried one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::SlugTaken { code, .. }
            | Self::Validation { code, .. }
            | Self::Permanent { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// Webflow's `details`: which parameter or field was refused, and why.
    pub fn details(&self) -> &[ErrorDetail] {
        match self {
            Self::SlugTaken { details, .. } | Self::Validation { details, .. } => details,
            _ => &[],
        }
    }
}

/// One entry of Webflow's `details`, parsed loosely: a string, `{param, description}` or
/// `{field, message}`; anything else is kept as its JSON text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ErrorDetail {
    /// The parameter or field the detail is about, when it names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    pub description: String,
}

impl ErrorDetail {
    fn from_value(value: &Value) -> Self {
        let text = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| value.get(*k).and_then(Value::as_str).map(str::to_owned))
        };
        match value {
            Value::String(s) => Self {
                param: None,
                description: s.clone(),
            },
            Value::Object(_) => Self {
                param: text(&["param", "field", "path"]),
                description: text(&["description", "message", "msg"])
                    .unwrap_or_else(|| value.to_string()),
            },
            other => Self {
                param: None,
                description: other.to_string(),
            },
        }
    }
}

fn join_details(details: &[ErrorDetail]) -> String {
    let parts: Vec<String> = details
        .iter()
        .map(|d| match &d.param {
            Some(p) => format!("{p}: {}", d.description),
            None => d.description.clone(),
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    }
}

fn status_suffix(status: Option<u16>) -> String {
    status.map(|s| format!(" ({s})")).unwrap_or_default()
}

/// Webflow's error body: every key optional, `externalReference` may be null.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    details: Option<Value>,
}

/// What the classifier needs to know about the request besides the answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestKind {
    /// Not a GET: the request could change something.
    pub write: bool,
    /// A PATCH of the live version (`…/live`), whose 409 means "never published".
    pub live_patch: bool,
}

/// Turns a non-2xx answer into an error variant.
pub(crate) fn classify(status: u16, body: &[u8], rate: RateInfo, kind: RequestKind) -> Error {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let details: Vec<ErrorDetail> = match &parsed.details {
        Some(Value::Array(items)) => items.iter().map(ErrorDetail::from_value).collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![ErrorDetail::from_value(other)],
    };
    let message = parsed
        .message
        .clone()
        .or_else(|| parsed.code.clone())
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(300).collect());
    match status {
        429 => Error::RateLimited {
            retry_after: rate.retry_after.unwrap_or(Duration::from_secs(60)),
            rate,
        },
        401 => Error::Unauthorized { message },
        403 => Error::Forbidden { message },
        404 => Error::NotFound { message },
        409 if kind.live_patch => Error::NeverPublished { message },
        400 | 422 => match slug_taken(&details) {
            Some(slug) => Error::SlugTaken {
                slug,
                status,
                code: parsed.code,
                details,
            },
            None => Error::Validation {
                status: Some(status),
                code: parsed.code,
                message,
                details,
            },
        },
        408 => Error::Transient {
            status: Some(status),
            reason: message,
            outcome_unknown: false,
        },
        500..=599 => Error::Transient {
            status: Some(status),
            reason: message,
            outcome_unknown: kind.write,
        },
        _ => Error::Permanent {
            status: Some(status),
            code: parsed.code,
            message,
        },
    }
}

/// The duplicate-slug 400: a detail about `slug` saying the value is already in the database.
fn slug_taken(details: &[ErrorDetail]) -> Option<String> {
    let detail = details.iter().find(|d| {
        d.param.as_deref() == Some("slug")
            && d.description
                .to_ascii_lowercase()
                .contains("already in database")
    })?;
    // "Unique value is already in database: 'the-slug'"
    let quoted = detail
        .description
        .split_once('\'')
        .and_then(|(_, rest)| rest.rsplit_once('\''))
        .map(|(slug, _)| slug.to_owned());
    Some(quoted.unwrap_or_default())
}

/// Turns a failure without an answer (timeout, connection) into `Transient`.
pub(crate) fn transport(error: &tower::BoxError, kind: RequestKind) -> Error {
    let failure = suiteflow_http::no_answer(error);
    Error::Transient {
        status: None,
        reason: failure.reason,
        outcome_unknown: kind.write && failure.maybe_sent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRITE: RequestKind = RequestKind {
        write: true,
        live_patch: false,
    };

    #[test]
    fn duplicate_slug_body_is_slug_taken() {
        let body = br#"{"message":"Validation Error","code":"validation_error","externalReference":null,"details":[{"param":"slug","description":"Unique value is already in database: 'test-blog-post'"}]}"#;
        match classify(400, body, RateInfo::default(), WRITE) {
            Error::SlugTaken {
                slug,
                status,
                code,
                details,
            } => {
                assert_eq!(slug, "test-blog-post");
                assert_eq!((status, code.as_deref()), (400, Some("validation_error")));
                assert_eq!(details.len(), 1);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn details_are_parsed_loosely() {
        let body = br#"{"code":"validation_error","message":"Validation Error","externalReference":"x","details":["plain",{"field":"price","message":"must be a number"},{"param":"name","description":"required"},7]}"#;
        let error = classify(422, body, RateInfo::default(), WRITE);
        assert_eq!(error.status(), Some(422));
        assert_eq!(error.code(), Some("validation_error"));
        assert_eq!(error.details().len(), 4);
        let Error::Validation { details, .. } = error else {
            panic!("expected Validation");
        };
        assert_eq!(
            details[0],
            ErrorDetail {
                param: None,
                description: "plain".into()
            }
        );
        assert_eq!(details[1].param.as_deref(), Some("price"));
        assert_eq!(details[1].description, "must be a number");
        assert_eq!(details[2].param.as_deref(), Some("name"));
        assert_eq!(details[3].description, "7");
    }

    #[test]
    fn message_only_validation_and_non_json_bodies() {
        let body = br#"{"message":"Validation Error: [\"Value (cmsLocaleId)'s type should be string\"]","details":[]}"#;
        let e = classify(400, body, RateInfo::default(), WRITE);
        assert!(e.to_string().contains("cmsLocaleId"), "{e}");
        let e = classify(502, b"<html>bad gateway</html>", RateInfo::default(), WRITE);
        assert!(matches!(
            e,
            Error::Transient {
                status: Some(502),
                outcome_unknown: true,
                ..
            }
        ));
    }

    #[test]
    fn statuses_map_to_variants() {
        let read = RequestKind {
            write: false,
            live_patch: false,
        };
        let live = RequestKind {
            write: true,
            live_patch: true,
        };
        let rate = RateInfo {
            retry_after: Some(Duration::from_secs(7)),
            ..RateInfo::default()
        };
        assert!(matches!(
            classify(401, b"", rate, read),
            Error::Unauthorized { .. }
        ));
        assert!(matches!(
            classify(403, b"", rate, read),
            Error::Forbidden { .. }
        ));
        assert!(matches!(
            classify(404, b"", rate, read),
            Error::NotFound { .. }
        ));
        assert!(matches!(
            classify(409, b"", rate, live),
            Error::NeverPublished { .. }
        ));
        assert!(matches!(
            classify(409, b"", rate, WRITE),
            Error::Permanent {
                status: Some(409),
                ..
            }
        ));
        assert_eq!(
            classify(429, b"", rate, read).retry_after(),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            classify(429, b"", RateInfo::default(), read).retry_after(),
            Some(Duration::from_secs(60))
        );
        assert!(matches!(
            classify(500, b"", rate, read),
            Error::Transient {
                outcome_unknown: false,
                ..
            }
        ));
        assert!(matches!(
            classify(408, b"", rate, WRITE),
            Error::Transient {
                outcome_unknown: false,
                ..
            }
        ));
        assert!(matches!(
            classify(418, b"", rate, read),
            Error::Permanent { .. }
        ));
    }
}
