//! Why an event could not be finished now. A failure stays typed from the first error to the
//! place its outcome is stored: its kind says what the worker does about it, its cause keeps
//! what failed as the failing part reported it (HTTP status, the API's code and details, the
//! mapper's warnings). It becomes text and JSON only in [`Failure::detail`], where it is stored.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use suiteflow_mapper::MapError;
use suiteflow_smartsuite_client::Error as SmartSuiteError;
use suiteflow_store::StoreError;
use suiteflow_webflow_client::Error as WebflowError;
use time::OffsetDateTime;

/// What the worker does with an event that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// 408, 5xx, timeouts, connection failures, the database: tried again with backoff; the
    /// last attempt dead-letters it.
    Retry,
    /// Put back until `until` without spending an attempt: the event itself was not at fault.
    Reschedule { until: OffsetDateTime, wait: Wait },
    /// 401/403: the connection goes to `error` and its events wait for a person.
    Credentials,
    /// The mapping no longer fits the live schemas (read again just now): the connection goes
    /// to `error` and its events wait for a person to fix the mapping, instead of being
    /// dead-lettered one after another.
    Mismatch,
    /// A retry cannot fix it: dead-lettered, with the error kept.
    Permanent,
}

impl FailureKind {
    /// The kind's name in `error_detail.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retry => "retry",
            Self::Reschedule { .. } => "reschedule",
            Self::Credentials => "credentials",
            Self::Mismatch => "mapping_mismatch",
            Self::Permanent => "permanent",
        }
    }
}

/// What a rescheduled event waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The API's budget is spent, or it answered 429.
    RateLimit(Api),
    /// The connection has no mapping yet.
    Mapping,
    /// The connection's clients or schemas could not be built now (an API or the database
    /// failed before any event was tried).
    Connection,
    /// The schemas may have changed (Webflow refused a field or an option, a required field
    /// was missing, a choice was unknown): they are read again before the event is retried.
    Schema,
}

impl Wait {
    /// The name in `error_detail.waitingFor`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RateLimit(Api::Webflow) => "webflow_rate_limit",
            Self::RateLimit(Api::SmartSuite) => "smartsuite_rate_limit",
            Self::Mapping => "mapping",
            Self::Connection => "connection",
            Self::Schema => "schema_refresh",
        }
    }
}

/// One of the two APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Webflow,
    SmartSuite,
}

impl Api {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webflow => "webflow",
            Self::SmartSuite => "smartsuite",
        }
    }
}

/// What failed, as the failing part reported it. Shared (`Arc`) because one failed bulk call
/// is the failure of every event it carried.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Cause {
    #[error(transparent)]
    Webflow(Arc<WebflowError>),
    #[error(transparent)]
    SmartSuite(Arc<SmartSuiteError>),
    #[error("database: {0}")]
    Store(Arc<StoreError>),
    #[error(transparent)]
    Map(Arc<MapError>),
    /// The engine's own finding: no mapping yet, a budget spent, every slug suffix taken, …
    #[error("{0}")]
    Engine(Cow<'static, str>),
}

impl Cause {
    /// The part that failed, in `error_detail.source`.
    pub fn source_name(&self) -> &'static str {
        match self {
            Self::Webflow(_) => "webflow",
            Self::SmartSuite(_) => "smartsuite",
            Self::Store(_) => "database",
            Self::Map(_) => "mapping",
            Self::Engine(_) => "engine",
        }
    }
}

/// Why an event could not be finished now: what to do ([`FailureKind`]) and why ([`Cause`]).
#[derive(Debug, Clone)]
pub struct Failure {
    kind: FailureKind,
    cause: Cause,
}

impl Failure {
    pub fn new(kind: FailureKind, cause: Cause) -> Self {
        Self { kind, cause }
    }

    /// Tried again with backoff, for the engine's own reason.
    pub fn retry(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(FailureKind::Retry, Cause::Engine(message.into()))
    }

    /// Dead-lettered, for the engine's own reason.
    pub fn permanent(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(FailureKind::Permanent, Cause::Engine(message.into()))
    }

    /// Put back until `until`, waiting for `wait`, for the engine's own reason.
    pub fn reschedule(
        until: OffsetDateTime,
        wait: Wait,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::new(
            FailureKind::Reschedule { until, wait },
            Cause::Engine(message.into()),
        )
    }

    /// The mapping no longer fits the live schemas (`problems` names the fields).
    pub fn mismatch(problems: impl Into<Cow<'static, str>>) -> Self {
        Self::new(FailureKind::Mismatch, Cause::Engine(problems.into()))
    }

    /// Put back at once, to be tried after the schemas are read again.
    pub fn drift(message: impl Into<Cow<'static, str>>) -> Self {
        Self::reschedule(OffsetDateTime::now_utc(), Wait::Schema, message)
    }

    /// Whether this failure may come from schemas that changed since they were read: Webflow
    /// refused the data naming a field or an option, or a required field had no value (its
    /// SmartSuite field may be gone). Read again, the schemas tell.
    pub fn suggests_drift(&self) -> bool {
        match &self.cause {
            Cause::Webflow(e) => {
                matches!(e.as_ref(), WebflowError::Validation { .. })
                    && e.details().iter().any(|d| {
                        d.param.as_deref().is_some_and(|p| !p.is_empty())
                            || d.description.to_ascii_lowercase().contains("option")
                    })
            }
            Cause::Map(e) => matches!(e.as_ref(), MapError::MissingRequired { .. }),
            _ => false,
        }
    }

    /// The same cause, put back until `until` waiting for `wait` instead.
    pub fn rescheduled(self, until: OffsetDateTime, wait: Wait) -> Self {
        Self::new(FailureKind::Reschedule { until, wait }, self.cause)
    }

    pub fn kind(&self) -> FailureKind {
        self.kind
    }

    pub fn cause(&self) -> &Cause {
        &self.cause
    }

    /// The Webflow error behind this failure, if Webflow refused.
    pub fn webflow(&self) -> Option<&WebflowError> {
        match &self.cause {
            Cause::Webflow(e) => Some(e),
            _ => None,
        }
    }

    /// The SmartSuite error behind this failure, if SmartSuite refused.
    pub fn smartsuite(&self) -> Option<&SmartSuiteError> {
        match &self.cause {
            Cause::SmartSuite(e) => Some(e),
            _ => None,
        }
    }

    /// The failure as data, for `events.error_detail` (the text is [`Display`](fmt::Display)).
    pub fn detail(&self) -> ErrorDetail {
        let mut detail = ErrorDetail {
            kind: self.kind.as_str(),
            source: self.cause.source_name(),
            ..ErrorDetail::default()
        };
        if let FailureKind::Reschedule { until, wait } = self.kind {
            detail.waiting_for = Some(wait.as_str());
            detail.until = until
                .format(&time::format_description::well_known::Rfc3339)
                .ok();
        }
        match &self.cause {
            Cause::Webflow(e) => {
                detail.status = e.status();
                detail.code = e.code().map(str::to_owned);
                detail.details = e
                    .details()
                    .iter()
                    .filter_map(|d| serde_json::to_value(d).ok())
                    .collect();
            }
            Cause::SmartSuite(e) => {
                detail.status = smartsuite_status(e);
                if let SmartSuiteError::Validation { details, .. } = e.as_ref()
                    && !details.is_null()
                {
                    detail.details = vec![details.clone()];
                }
            }
            Cause::Map(e) => match e.as_ref() {
                MapError::MissingRequired { fields, warnings } => {
                    detail.details = fields
                        .iter()
                        .map(|f| json!({"param": f, "description": "required field has no value"}))
                        .collect();
                    detail.warnings = warnings
                        .iter()
                        .filter_map(|w| serde_json::to_value(w).ok())
                        .collect();
                }
            },
            Cause::Store(_) | Cause::Engine(_) => {}
        }
        detail
    }
}

/// A failure reads as its cause.
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.cause.fmt(f)
    }
}

impl std::error::Error for Failure {}

fn smartsuite_status(e: &SmartSuiteError) -> Option<u16> {
    match e {
        SmartSuiteError::RateLimited { .. } => Some(429),
        SmartSuiteError::Unauthorized { .. } => Some(401),
        SmartSuiteError::Forbidden { .. } => Some(403),
        SmartSuiteError::NotFound { .. } => Some(404),
        SmartSuiteError::Validation { status, .. } => Some(*status).filter(|s| *s != 0),
        SmartSuiteError::Transient { status, .. } | SmartSuiteError::Permanent { status, .. } => {
            *status
        }
        _ => None,
    }
}

/// Now plus `d`.
pub fn after(d: Duration) -> OffsetDateTime {
    OffsetDateTime::now_utc() + d
}

impl From<WebflowError> for Failure {
    fn from(e: WebflowError) -> Self {
        let kind = match &e {
            WebflowError::RateLimited { retry_after, .. } => FailureKind::Reschedule {
                until: after(*retry_after),
                wait: Wait::RateLimit(Api::Webflow),
            },
            WebflowError::Unauthorized { .. } | WebflowError::Forbidden { .. } => {
                FailureKind::Credentials
            }
            WebflowError::Transient { .. } => FailureKind::Retry,
            _ => FailureKind::Permanent,
        };
        Self::new(kind, Cause::Webflow(Arc::new(e)))
    }
}

impl From<SmartSuiteError> for Failure {
    fn from(e: SmartSuiteError) -> Self {
        let kind = match &e {
            SmartSuiteError::RateLimited { retry_after } => FailureKind::Reschedule {
                until: after(*retry_after),
                wait: Wait::RateLimit(Api::SmartSuite),
            },
            SmartSuiteError::Unauthorized { .. } | SmartSuiteError::Forbidden { .. } => {
                FailureKind::Credentials
            }
            SmartSuiteError::Transient { .. } => FailureKind::Retry,
            _ => FailureKind::Permanent,
        };
        Self::new(kind, Cause::SmartSuite(Arc::new(e)))
    }
}

/// The database failed: the event is tried again.
impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Self::new(FailureKind::Retry, Cause::Store(Arc::new(e)))
    }
}

/// A record that does not map (a required field without a value) fails for good, with the
/// warnings that explain it.
impl From<MapError> for Failure {
    fn from(e: MapError) -> Self {
        Self::new(FailureKind::Permanent, Cause::Map(Arc::new(e)))
    }
}

/// A failure as `events.error_detail` stores it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// `retry`, `reschedule`, `credentials` or `permanent`.
    pub kind: &'static str,
    /// `webflow`, `smartsuite`, `database`, `mapping` or `engine`.
    pub source: &'static str,
    /// The HTTP status the API answered with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The API's own error code (Webflow's `code`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// What the API said was wrong (Webflow's `details`, SmartSuite's body), or the required
    /// fields that had no value.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Value>,
    /// The mapper's warnings, which often say why a required field was empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Value>,
    /// For a rescheduled event: what it waits for, and until when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_for: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

impl ErrorDetail {
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use suiteflow_webflow_client::ErrorDetail as WebflowDetail;

    #[test]
    fn webflow_errors_are_classified_by_variant() {
        let transient = Failure::from(WebflowError::Transient {
            status: Some(502),
            reason: "bad gateway".into(),
            outcome_unknown: false,
        });
        assert_eq!(transient.kind(), FailureKind::Retry);
        let refused = Failure::from(WebflowError::Unauthorized {
            message: "no".into(),
        });
        assert_eq!(refused.kind(), FailureKind::Credentials);
        let limited = Failure::from(WebflowError::RateLimited {
            retry_after: Duration::from_secs(60),
            rate: Default::default(),
        });
        assert!(matches!(
            limited.kind(),
            FailureKind::Reschedule { until, wait: Wait::RateLimit(Api::Webflow) }
                if until > OffsetDateTime::now_utc() + Duration::from_secs(50)
        ));
        let invalid = Failure::from(WebflowError::Validation {
            status: Some(400),
            code: Some("validation_error".into()),
            message: "Validation Error".into(),
            details: vec![],
        });
        assert_eq!(invalid.kind(), FailureKind::Permanent);
    }

    #[test]
    fn a_webflow_refusal_keeps_status_code_and_details() {
        let failure = Failure::from(WebflowError::Validation {
            status: Some(400),
            code: Some("validation_error".into()),
            message: "Validation Error".into(),
            details: vec![WebflowDetail {
                param: Some("price".into()),
                description: "must be a number".into(),
            }],
        });
        let detail = failure.detail().to_json();
        assert_eq!(
            detail,
            json!({
                "kind": "permanent",
                "source": "webflow",
                "status": 400,
                "code": "validation_error",
                "details": [{"param": "price", "description": "must be a number"}],
            })
        );
        assert!(
            failure.to_string().contains("must be a number"),
            "{failure}"
        );
    }

    #[test]
    fn a_reschedule_says_what_it_waits_for() {
        let until = OffsetDateTime::now_utc();
        let failure = Failure::reschedule(until, Wait::Mapping, "no mapping yet");
        let detail = failure.detail();
        assert_eq!(detail.kind, "reschedule");
        assert_eq!(detail.waiting_for, Some("mapping"));
        assert!(detail.until.is_some());
        assert_eq!(failure.to_string(), "no mapping yet");
        // A cause keeps its source when the engine decides to wait instead.
        let down = Failure::from(WebflowError::Transient {
            status: Some(503),
            reason: "unavailable".into(),
            outcome_unknown: false,
        })
        .rescheduled(until, Wait::Connection);
        let detail = down.detail();
        assert_eq!(
            (detail.source, detail.status, detail.waiting_for),
            ("webflow", Some(503), Some("connection"))
        );
    }
}
