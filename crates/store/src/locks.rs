//! Lease-based distributed locks for singleton jobs (keep-alive, retention).

use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{Int8, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::OffsetDateTime;

use crate::StoreError;

#[derive(QueryableByName)]
struct Expiry {
    #[diesel(sql_type = Timestamptz)]
    expires_at: OffsetDateTime,
}

/// Takes lock `name` for `holder` for `lease`, or renews it when `holder` already has it.
/// Returns when the lease expires, or `None` when another holder's lease is still running.
/// A holder that outlives its lease loses the lock to the next taker.
pub async fn acquire_lock(
    conn: &mut AsyncPgConnection,
    name: &str,
    holder: &str,
    lease: Duration,
) -> Result<Option<OffsetDateTime>, StoreError> {
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    let row: Option<Expiry> = crate::prepared::prepared(
        "INSERT INTO distributed_locks AS l (name, holder, acquired_at, expires_at) \
         VALUES ($1, $2, now(), now() + $3::float8 * interval '1 millisecond') \
         ON CONFLICT (name) DO UPDATE \
            SET holder = excluded.holder, \
                acquired_at = CASE WHEN l.holder = excluded.holder THEN l.acquired_at \
                                   ELSE excluded.acquired_at END, \
                expires_at = excluded.expires_at \
          WHERE l.expires_at <= now() OR l.holder = excluded.holder \
         RETURNING expires_at",
    )
    .bind::<Text, _>(name)
    .bind::<Text, _>(holder)
    .bind::<Int8, _>(lease_ms)
    .get_result(conn)
    .await
    .optional()?;
    Ok(row.map(|r| r.expires_at))
}

/// Releases lock `name` if `holder` still has it; `false` when it did not.
pub async fn release_lock(
    conn: &mut AsyncPgConnection,
    name: &str,
    holder: &str,
) -> Result<bool, StoreError> {
    use crate::schema::distributed_locks as l;
    let deleted = diesel::delete(
        l::table
            .filter(l::name.eq(name))
            .filter(l::holder.eq(holder)),
    )
    .execute(conn)
    .await?;
    Ok(deleted == 1)
}
