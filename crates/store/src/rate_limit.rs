//! Shared rate-limit buckets (`rate_buckets`), keyed by what an API counts (a Webflow token, a
//! connection's cap, a SmartSuite API key: see [`bucket`]), shared by every replica and taken
//! from in one atomic statement. A bucket can be paused (an API's 429) and can follow the limit
//! the API announces. API calls are also counted per key and month (`api_calls`).
//!
//! A bucket of [`Rate`] `{limit, window, burst}` holds at most `burst` permits and refills
//! `limit + 1 - burst` permits per `window`, continuously. So no half-open interval of length
//! `window` ever sees more than `limit` permits granted (at most `burst` at its start, fewer than
//! `limit + 1 - burst` refilled during it), while the long-run rate stays close to `limit`.

use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{Bool, Int8, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::OffsetDateTime;

use crate::{ConnectionId, StoreError};

const TAKE_SQL: &str = include_str!("rate_limit.sql");

/// The names of the buckets.
pub mod bucket {
    use crate::ConnectionId;

    /// A Webflow token's bucket: every connection and replica using the token shares it.
    pub fn webflow_token(fingerprint: &str) -> String {
        format!("webflow:{fingerprint}")
    }

    /// A connection's own cap below its token's limit (`rate_limit_per_min`).
    pub fn webflow_cap(connection: ConnectionId) -> String {
        format!("webflow-cap:{}", connection.0)
    }

    /// A SmartSuite API key's bucket (and its monthly call count).
    pub fn smartsuite_key(fingerprint: &str) -> String {
        format!("smartsuite:{fingerprint}")
    }
}

/// A rate: at most `limit` permits in any window of length `window`, at most `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub limit: u32,
    pub window: Duration,
    pub burst: u32,
    /// Follow the limit the API announced for this bucket, once it has (see
    /// [`announce_limit`]); `limit` and `burst` apply until then.
    pub follow_announced: bool,
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
            follow_announced: false,
        }
    }

    /// The same rate with another burst (1 ..= limit).
    pub fn with_burst(self, burst: u32) -> Self {
        Self { burst, ..self }
    }

    /// The same rate, giving way to the limit the API announces.
    pub fn following_announced(self) -> Self {
        Self {
            follow_announced: true,
            ..self
        }
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
    /// Not enough permits, or the bucket is paused: none were taken; try again then.
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

/// Takes `n` permits from bucket `key` at `rate`, in one statement. Every caller of one bucket
/// must use the same rate.
pub async fn take(
    conn: &mut AsyncPgConnection,
    key: &str,
    n: u32,
    rate: Rate,
) -> Result<Take, StoreError> {
    rate.validate(n)?;
    let window_us = i64::try_from(rate.window.as_micros()).unwrap_or(i64::MAX);
    // The statement casts these to numeric: exact arithmetic, no float rounding.
    let row: TakeRow = crate::prepared::prepared(TAKE_SQL)
        .bind::<Text, _>(key)
        .bind::<Int8, _>(i64::from(n))
        .bind::<Int8, _>(i64::from(rate.limit))
        .bind::<Int8, _>(window_us)
        .bind::<Int8, _>(i64::from(rate.burst))
        .bind::<Bool, _>(rate.follow_announced)
        .get_result(conn)
        .await?;
    Ok(if row.granted {
        Take::Granted { at: row.at }
    } else {
        Take::RetryAt(row.retry_at)
    })
}

/// Gives `n` permits back to bucket `key` (taken, then not used), up to its burst.
pub async fn refund(conn: &mut AsyncPgConnection, key: &str, n: u32) -> Result<(), StoreError> {
    diesel::sql_query(
        "UPDATE rate_buckets SET permits = least(burst, permits + $2) WHERE key = $1",
    )
    .bind::<Text, _>(key)
    .bind::<Int8, _>(i64::from(n))
    .execute(conn)
    .await?;
    Ok(())
}

/// Pauses bucket `key` until `until` (an API's 429): no caller gets a permit before then. A
/// later pause already set stays.
pub async fn pause(
    conn: &mut AsyncPgConnection,
    key: &str,
    until: OffsetDateTime,
) -> Result<(), StoreError> {
    diesel::sql_query(
        "UPDATE rate_buckets SET paused_until = greatest(coalesce(paused_until, $2), $2) \
         WHERE key = $1",
    )
    .bind::<Text, _>(key)
    .bind::<Timestamptz, _>(until)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the limit the API announced for bucket `key` (Webflow's `X-RateLimit-Limit`): takes
/// that follow announcements size the bucket by it.
pub async fn announce_limit(
    conn: &mut AsyncPgConnection,
    key: &str,
    limit: u32,
) -> Result<(), StoreError> {
    use crate::schema::rate_buckets as r;
    let limit = i32::try_from(limit.max(1)).unwrap_or(i32::MAX);
    diesel::update(
        r::table
            .find(key)
            .filter(r::announced_limit.is_distinct_from(limit)),
    )
    .set(r::announced_limit.eq(limit))
    .execute(conn)
    .await?;
    Ok(())
}

/// What bucket `key` holds now: its pause, and the limit the API announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BucketState {
    pub paused_until: Option<OffsetDateTime>,
    pub announced_limit: Option<i32>,
}

/// The state of bucket `key` (`None` when nothing took from it yet).
pub async fn bucket_state(
    conn: &mut AsyncPgConnection,
    key: &str,
) -> Result<Option<BucketState>, StoreError> {
    use crate::schema::rate_buckets as r;
    let row: Option<(Option<OffsetDateTime>, Option<i32>)> = r::table
        .find(key)
        .select((r::paused_until, r::announced_limit))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(|(paused_until, announced_limit)| BucketState {
        paused_until,
        announced_limit,
    }))
}

/// Counts one call of `key` in this month (UTC) and returns the month's count.
pub async fn count_call(conn: &mut AsyncPgConnection, key: &str) -> Result<i64, StoreError> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = Int8)]
        calls: i64,
    }
    let row: Count = diesel::sql_query(
        "INSERT INTO api_calls AS a (key, month, calls) \
         VALUES ($1, date_trunc('month', now() AT TIME ZONE 'UTC')::date, 1) \
         ON CONFLICT (key, month) DO UPDATE SET calls = a.calls + 1 \
         RETURNING calls",
    )
    .bind::<Text, _>(key)
    .get_result(conn)
    .await?;
    Ok(row.calls)
}

/// The calls of `key` counted this month (UTC).
pub async fn calls_this_month(conn: &mut AsyncPgConnection, key: &str) -> Result<i64, StoreError> {
    use crate::schema::api_calls as a;
    Ok(a::table
        .filter(a::key.eq(key))
        .filter(a::month.eq(diesel::dsl::sql::<diesel::sql_types::Date>(
            "date_trunc('month', now() AT TIME ZONE 'UTC')::date",
        )))
        .select(a::calls)
        .first(conn)
        .await
        .optional()?
        .unwrap_or(0))
}

/// Moves what is known under bucket `old` (its state and its call counts) to `new`: a
/// credential's fingerprint changes with the data key.
pub async fn rekey(conn: &mut AsyncPgConnection, old: &str, new: &str) -> Result<(), StoreError> {
    if old == new {
        return Ok(());
    }
    for sql in [
        "UPDATE rate_buckets SET key = $2 WHERE key = $1 \
         AND NOT EXISTS (SELECT 1 FROM rate_buckets WHERE key = $2)",
        "INSERT INTO api_calls (key, month, calls) \
         SELECT $2, month, calls FROM api_calls WHERE key = $1 \
         ON CONFLICT (key, month) DO UPDATE SET calls = api_calls.calls + excluded.calls",
        "DELETE FROM api_calls WHERE key = $1",
    ] {
        diesel::sql_query(sql)
            .bind::<Text, _>(old)
            .bind::<Text, _>(new)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Records the fingerprints of a connection's credentials, when they changed.
pub async fn set_fingerprints(
    conn: &mut AsyncPgConnection,
    connection: ConnectionId,
    webflow_token: &str,
    smartsuite_key: &str,
) -> Result<(), StoreError> {
    use crate::schema::connections as c;
    diesel::update(
        c::table.find(connection).filter(
            c::webflow_token_fingerprint
                .is_distinct_from(webflow_token)
                .or(c::smartsuite_key_fingerprint.is_distinct_from(smartsuite_key)),
        ),
    )
    .set((
        c::webflow_token_fingerprint.eq(webflow_token),
        c::smartsuite_key_fingerprint.eq(smartsuite_key),
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// How full bucket `key` is now: permits available of at most `burst`, and its pause.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketFill {
    pub available: f64,
    pub burst: f64,
    pub paused_until: Option<OffsetDateTime>,
}

/// The fill of bucket `key` now (`None` when nothing took from it yet: it is full).
pub async fn bucket_fill(
    conn: &mut AsyncPgConnection,
    key: &str,
) -> Result<Option<BucketFill>, StoreError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Double)]
        available: f64,
        #[diesel(sql_type = diesel::sql_types::Double)]
        burst: f64,
        #[diesel(sql_type = diesel::sql_types::Nullable<Timestamptz>)]
        paused_until: Option<OffsetDateTime>,
    }
    let row: Option<Row> = diesel::sql_query(
        "SELECT least(burst, permits + refill \
                  * extract(epoch FROM greatest(now() - refilled_at, interval '0')) * 1000000 \
                  / window_us)::float8 AS available, \
                burst::float8 AS burst, paused_until \
         FROM rate_buckets WHERE key = $1",
    )
    .bind::<Text, _>(key)
    .get_result(conn)
    .await
    .optional()?;
    Ok(row.map(|r| BucketFill {
        available: r.available,
        burst: r.burst,
        paused_until: r.paused_until,
    }))
}
