//! What became of an event, and how an error decides it (DESIGN §6.5): retry with backoff,
//! reschedule without spending an attempt, stop the connection, or dead-letter.

use std::time::Duration;

use time::OffsetDateTime;

/// Why an event could not be finished now.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// 408, 5xx, timeouts, connection failures: retried with backoff, then dead-lettered.
    Transient(String),
    /// A rate limit: try again at this time, without spending an attempt.
    Throttled(OffsetDateTime),
    /// 401/403: the connection goes to `error` and its events wait for a person.
    Credentials(String),
    /// Anything a retry cannot fix: dead-lettered with the error kept.
    Permanent(String),
}

impl Failure {
    pub fn message(&self) -> String {
        match self {
            Self::Transient(m) | Self::Credentials(m) | Self::Permanent(m) => m.clone(),
            Self::Throttled(at) => format!("rate limited until {at}"),
        }
    }

    pub fn from_webflow(e: suiteflow_webflow_client::Error) -> Self {
        use suiteflow_webflow_client::Error as E;
        match e {
            E::RateLimited { retry_after, .. } => Self::Throttled(after(retry_after)),
            E::Unauthorized { .. } | E::Forbidden { .. } => Self::Credentials(e.to_string()),
            E::Transient { .. } => Self::Transient(e.to_string()),
            _ => Self::Permanent(e.to_string()),
        }
    }

    pub fn from_smartsuite(e: suiteflow_smartsuite_client::Error) -> Self {
        use suiteflow_smartsuite_client::Error as E;
        match e {
            E::RateLimited { retry_after } => Self::Throttled(after(retry_after)),
            E::Unauthorized { .. } | E::Forbidden { .. } => Self::Credentials(e.to_string()),
            E::Transient { .. } => Self::Transient(e.to_string()),
            _ => Self::Permanent(e.to_string()),
        }
    }
}

/// Now plus `d`.
pub fn after(d: Duration) -> OffsetDateTime {
    OffsetDateTime::now_utc() + d
}

/// The result of processing one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done {
        webflow_item_id: Option<String>,
        warnings: Vec<String>,
    },
    /// Completed inside the processing's own transaction (a pull): nothing left to record.
    Recorded,
    Failed(Failure),
}

/// A connection's retry policy (`max_retries`, `retry_backoff_ms`), capped by
/// `MAX_RETRY_BACKOFF_MS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
    pub max: Duration,
}

/// How long before the next attempt: `min(base · 2^(attempt-1), max)` plus up to 30 % jitter.
pub fn backoff(attempt: u32, base: Duration, max: Duration, jitter_unit: f64) -> Duration {
    let exponent = attempt.saturating_sub(1).min(31);
    let raw = base.saturating_mul(1u32 << exponent).min(max);
    raw + raw.mul_f64(0.3 * jitter_unit.clamp(0.0, 1.0))
}

/// A number in `[0, 1)` from the system's random generator.
pub fn jitter_unit() -> f64 {
    let bytes = suiteflow_crypto::random_bytes(4);
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes.expose()[..4]);
    f64::from(u32::from_le_bytes(word)) / (f64::from(u32::MAX) + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_bounded_jitter() {
        let base = Duration::from_millis(1000);
        let max = Duration::from_millis(60_000);
        assert_eq!(backoff(1, base, max, 0.0), base);
        assert_eq!(backoff(2, base, max, 0.0), Duration::from_millis(2000));
        assert_eq!(backoff(4, base, max, 0.0), Duration::from_millis(8000));
        assert_eq!(backoff(10, base, max, 0.0), max);
        assert_eq!(backoff(50, base, max, 0.0), max);
        assert_eq!(backoff(1, base, max, 1.0), Duration::from_millis(1300));
        for _ in 0..100 {
            let d = backoff(3, base, max, jitter_unit());
            assert!(
                d >= Duration::from_millis(4000) && d < Duration::from_millis(5200),
                "{d:?}"
            );
        }
    }

    #[test]
    fn errors_are_classified_by_variant() {
        use suiteflow_webflow_client::Error as W;
        let t = Failure::from_webflow(W::Transient {
            status: Some(502),
            reason: "x".into(),
            outcome_unknown: false,
        });
        assert!(matches!(t, Failure::Transient(_)));
        let c = Failure::from_webflow(W::Unauthorized {
            message: "no".into(),
        });
        assert!(matches!(c, Failure::Credentials(_)));
        let r = Failure::from_webflow(W::RateLimited {
            retry_after: Duration::from_secs(60),
            rate: Default::default(),
        });
        assert!(
            matches!(r, Failure::Throttled(at) if at > OffsetDateTime::now_utc() + Duration::from_secs(50))
        );
        let p = Failure::from_webflow(W::Validation {
            message: "bad".into(),
            details: vec![],
        });
        assert!(matches!(p, Failure::Permanent(_)));
    }
}
