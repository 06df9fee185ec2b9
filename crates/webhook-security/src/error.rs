/// Why a webhook was refused. No variant holds a secret, a signature or a body, so an error can
/// be logged as it is. The ingress answers 401 `Invalid timestamp` for
/// [`WebhookError::Timestamp`] and 401 `Invalid signature` for everything else.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// A header the scheme needs is absent or empty.
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    /// A header is present but not in the scheme's format.
    #[error("malformed {0} header")]
    MalformedHeader(&'static str),
    /// The signature does not match the body (or no signature entry does).
    #[error("invalid signature")]
    InvalidSignature,
    /// The timestamp is not a number of seconds, or outside the window.
    #[error(transparent)]
    Timestamp(#[from] TimestampError),
}

impl WebhookError {
    /// Whether the request was refused for its timestamp rather than its signature.
    pub fn is_timestamp(&self) -> bool {
        matches!(self, WebhookError::Timestamp(_))
    }
}

/// Why a webhook timestamp was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// Older than the window's maximum age.
    #[error("timestamp is {age_secs} s old, more than the {max_age_secs} s allowed")]
    TooOld { age_secs: i64, max_age_secs: u64 },
    /// Further in the future than the allowed clock skew.
    #[error("timestamp is {ahead_secs} s in the future, more than the {max_skew_secs} s allowed")]
    TooNew { ahead_secs: i64, max_skew_secs: u64 },
    /// Not a non-negative integer number of seconds.
    #[error("timestamp is not a whole, non-negative number of seconds")]
    Invalid,
}

/// A webhook secret that cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Empty, or only the `whsec_` prefix.
    #[error("the webhook secret is empty")]
    Empty,
    /// A `standard` secret whose key part is not base64.
    #[error("the webhook secret is not base64 (whsec_<base64>)")]
    NotBase64,
}

/// A scheme name other than `hmac` or `standard`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown webhook scheme (expected hmac or standard)")]
pub struct UnknownScheme;
