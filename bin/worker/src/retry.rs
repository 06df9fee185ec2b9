//! When a failed event is tried again: `min(base · 2^(attempt-1), max)` plus up to 30 %
//! jitter, for at most the connection's attempts (docs/architecture.md, "Failures").

use std::time::Duration;

use suiteflow_settings::parts::RetryConfig;
use suiteflow_store::Connection;

/// A connection's retry schedule (`max_retries`, `retry_backoff_ms`), capped by
/// `MAX_RETRY_BACKOFF_MS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySchedule {
    pub max_attempts: u32,
    pub base: Duration,
    pub max: Duration,
}

impl RetrySchedule {
    /// The connection's schedule, or the configured defaults when it could not be read.
    pub fn of(connection: Option<&Connection>, retry: &RetryConfig) -> Self {
        match connection {
            Some(c) => Self {
                max_attempts: u32::try_from(c.max_retries).unwrap_or(retry.max_attempts),
                base: Duration::from_millis(
                    u64::try_from(c.retry_backoff_ms).unwrap_or(1000).max(1),
                ),
                max: retry.max_backoff,
            },
            None => Self {
                max_attempts: retry.max_attempts,
                base: retry.backoff,
                max: retry.max_backoff,
            },
        }
    }

    /// The wait before attempt `attempt + 1`, with fresh jitter.
    pub fn delay(&self, attempt: u32) -> Duration {
        backoff(attempt, self.base, self.max, jitter_unit())
    }
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
}
