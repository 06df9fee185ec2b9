//! Shared rate-limit buckets (`rate_limits`): one bucket per connection and name, shared by every
//! replica, taken from in one atomic statement.
//!
//! A bucket of [`Rate`] `{limit, window, burst}` holds at most `burst` permits and refills
//! `limit + 1 - burst` permits per `window`, continuously. So no half-open interval of length
//! `window` ever sees more than `limit` permits granted (at most `burst` at its start, fewer than
//! `limit + 1 - burst` refilled during it), while the long-run rate stays close to `limit`.

use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{Bool, Int8, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::OffsetDateTime;

use crate::{ConnectionId, StoreError};

const TAKE_SQL: &str = include_str!("rate_limit.sql");

/// The bucket of Webflow API calls of a connection.
pub const WEBFLOW_BUCKET: &str = "webflow";

/// A rate: at most `limit` permits in any window of length `window`, at most `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub limit: u32,
    pub window: Duration,
    pub burst: u32,
}

impl Rate {
    /// `limit` per minute, with a burst of a tenth of it (at least 1).
    pub fn per_minute(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(60))
    }

    /// `limit` per `window`, with a burst of a tenth of it (at least 1).
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            burst: (limit / 10).max(1),
        }
    }

    /// The same rate with another burst (1 ..= limit).
    pub fn with_burst(self, burst: u32) -> Self {
        Self { burst, ..self }
    }

    fn validate(&self, n: u32) -> Result<(), StoreError> {
        if self.limit == 0 || self.window.is_zero() {
            return Err(StoreError::Invalid(
                "a rate needs a limit and a window".into(),
            ));
        }
        if self.burst == 0 || self.burst > self.limit {
            return Err(StoreError::Invalid(
                "a rate's burst must be 1 ..= its limit".into(),
            ));
        }
        if n == 0 || n > self.burst {
            return Err(StoreError::Invalid(format!(
                "cannot take {n} permits from a bucket holding at most {}",
                self.burst
            )));
        }
        Ok(())
    }
}

/// The answer of [`take`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// The permits were taken, at `at` on the bucket's clock.
    Granted { at: OffsetDateTime },
    /// Not enough permits: none were taken; enough will be there at this time.
    RetryAt(OffsetDateTime),
}

impl Take {
    pub fn is_granted(&self) -> bool {
        matches!(self, Self::Granted { .. })
    }
}

#[derive(QueryableByName)]
struct TakeRow {
    #[diesel(sql_type = Bool)]
    granted: bool,
    #[diesel(sql_type = Timestamptz)]
    at: OffsetDateTime,
    #[diesel(sql_type = Timestamptz)]
    retry_at: OffsetDateTime,
}

/// Takes `n` permits from bucket `bucket` of `connection` at `rate`, in one statement. Every
/// caller of one bucket must use the same rate.
pub async fn take(
    conn: &mut AsyncPgConnection,
    connection: ConnectionId,
    bucket: &str,
    n: u32,
    rate: Rate,
) -> Result<Take, StoreError> {
    rate.validate(n)?;
    let window_us = i64::try_from(rate.window.as_micros()).unwrap_or(i64::MAX);
    let refill = i64::from(rate.limit) + 1 - i64::from(rate.burst);
    // The statement casts these to numeric: exact arithmetic, no float rounding.
    let row: TakeRow = crate::prepared::prepared(TAKE_SQL)
        .bind::<SqlUuid, _>(connection)
        .bind::<Text, _>(bucket)
        .bind::<Int8, _>(i64::from(rate.burst))
        .bind::<Int8, _>(i64::from(n))
        .bind::<Int8, _>(refill)
        .bind::<Int8, _>(window_us)
        .get_result(conn)
        .await?;
    Ok(if row.granted {
        Take::Granted { at: row.at }
    } else {
        Take::RetryAt(row.retry_at)
    })
}
