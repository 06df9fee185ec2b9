//! The window a webhook timestamp must fall in.

use std::time::Duration;

use crate::TimestampError;

/// Default for `WEBHOOK_MAX_AGE_SECS`.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);

/// How far in the future a timestamp may be (the sender's clock may run ahead of ours).
pub const FUTURE_SKEW: Duration = Duration::from_secs(30);

/// Accepts timestamps at most `max_age` in the past and at most `future_skew` in the future
/// (both bounds inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampWindow {
    pub max_age: Duration,
    pub future_skew: Duration,
}

impl Default for TimestampWindow {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_AGE)
    }
}

impl TimestampWindow {
    /// A window of `max_age` into the past and [`FUTURE_SKEW`] into the future.
    pub fn new(max_age: Duration) -> Self {
        Self {
            max_age,
            future_skew: FUTURE_SKEW,
        }
    }

    /// Parses a timestamp header (unix seconds) and checks it against `now_unix_secs`; returns
    /// the timestamp. The clock is a parameter so tests need none: pass the current unix time.
    pub fn check(&self, header: &str, now_unix_secs: i64) -> Result<i64, TimestampError> {
        let timestamp = parse_timestamp(header)?;
        self.check_value(timestamp, now_unix_secs)?;
        Ok(timestamp)
    }

    /// Checks an already parsed timestamp.
    pub fn check_value(&self, timestamp: i64, now_unix_secs: i64) -> Result<(), TimestampError> {
        let age = now_unix_secs.saturating_sub(timestamp);
        let max_age = self.max_age.as_secs();
        if age > 0 && age.unsigned_abs() > max_age {
            return Err(TimestampError::TooOld {
                age_secs: age,
                max_age_secs: max_age,
            });
        }
        let ahead = timestamp.saturating_sub(now_unix_secs);
        let max_skew = self.future_skew.as_secs();
        if ahead > 0 && ahead.unsigned_abs() > max_skew {
            return Err(TimestampError::TooNew {
                ahead_secs: ahead,
                max_skew_secs: max_skew,
            });
        }
        Ok(())
    }
}

/// A timestamp header: ASCII digits only (no sign, no fraction, no exponent), fitting in an
/// `i64`. Whitespace around it is ignored.
pub fn parse_timestamp(header: &str) -> Result<i64, TimestampError> {
    let text = header.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TimestampError::Invalid);
    }
    text.parse().map_err(|_| TimestampError::Invalid)
}

/// The current unix time in seconds, for callers of [`TimestampWindow::check`].
pub fn unix_now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
