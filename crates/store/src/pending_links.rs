//! Links that wait for their target (`pending_links`): a record whose item refers to a record
//! that has no Webflow item yet. When the target's item is written, the records waiting for it
//! are queued again so the reference fills in.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::schema::pending_links;
use crate::{ConnectionId, StoreError};

/// A record waiting for a target: (its connection, its record id).
pub type Waiting = (ConnectionId, String);

/// Sets what record `record_id` of `connection` waits for (replacing what it waited for
/// before): the (connection, record) of each link without an item yet. Empty: it waits for
/// nothing.
pub async fn set_pending_links(
    conn: &mut AsyncPgConnection,
    connection: ConnectionId,
    record_id: &str,
    targets: &[(ConnectionId, String)],
) -> Result<(), StoreError> {
    use pending_links::dsl as p;
    diesel::delete(
        p::pending_links
            .filter(p::connection_id.eq(connection))
            .filter(p::record_id.eq(record_id)),
    )
    .execute(conn)
    .await?;
    if targets.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = targets
        .iter()
        .map(|(target_connection, target_record)| {
            (
                p::connection_id.eq(connection),
                p::record_id.eq(record_id),
                p::target_connection_id.eq(*target_connection),
                p::target_record_id.eq(target_record),
            )
        })
        .collect();
    diesel::insert_into(p::pending_links)
        .values(rows)
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes (removes and returns) the records waiting for any of `targets` of
/// `target_connection`, with the target each waited for.
pub async fn take_waiting_for(
    conn: &mut AsyncPgConnection,
    target_connection: ConnectionId,
    targets: &[&str],
) -> Result<Vec<(Waiting, String)>, StoreError> {
    use pending_links::dsl as p;
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(ConnectionId, String, String)> = diesel::delete(
        p::pending_links
            .filter(p::target_connection_id.eq(target_connection))
            .filter(p::target_record_id.eq_any(targets)),
    )
    .returning((p::connection_id, p::record_id, p::target_record_id))
    .get_results(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(connection, record, target)| ((connection, record), target))
        .collect())
}

/// How many links of `connection`'s records wait for their target.
pub async fn count_pending_links(
    conn: &mut AsyncPgConnection,
    connection: ConnectionId,
) -> Result<i64, StoreError> {
    use pending_links::dsl as p;
    Ok(p::pending_links
        .filter(p::connection_id.eq(connection))
        .count()
        .get_result(conn)
        .await?)
}
