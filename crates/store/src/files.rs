//! Public URLs of SmartSuite files by handle, kept until they expire, so neither a restart nor
//! another replica pays SmartSuite for them again.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::OffsetDateTime;

use crate::StoreError;
use crate::schema::file_urls;

/// The URLs known for `handles`, by handle (expired ones left out).
pub async fn file_urls(
    conn: &mut AsyncPgConnection,
    handles: &[&str],
) -> Result<HashMap<String, String>, StoreError> {
    if handles.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, String)> = file_urls::table
        .filter(file_urls::handle.eq_any(handles))
        .filter(file_urls::expires_at.gt(diesel::dsl::now))
        .select((file_urls::handle, file_urls::url))
        .load(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Forgets the URLs that expired; returns how many.
pub async fn purge_expired_file_urls(conn: &mut AsyncPgConnection) -> Result<usize, StoreError> {
    Ok(
        diesel::delete(file_urls::table.filter(file_urls::expires_at.le(diesel::dsl::now)))
            .execute(conn)
            .await?,
    )
}

/// Keeps `url` for `handle` until `expires_at`.
pub async fn put_file_url(
    conn: &mut AsyncPgConnection,
    handle: &str,
    url: &str,
    expires_at: OffsetDateTime,
) -> Result<(), StoreError> {
    diesel::insert_into(file_urls::table)
        .values((
            file_urls::handle.eq(handle),
            file_urls::url.eq(url),
            file_urls::expires_at.eq(expires_at),
        ))
        .on_conflict(file_urls::handle)
        .do_update()
        .set((
            file_urls::url.eq(excluded(file_urls::url)),
            file_urls::expires_at.eq(excluded(file_urls::expires_at)),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
