//! The id map: external record → Webflow item (docs/architecture.md, "The write path").

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::OffsetDateTime;

use crate::schema::id_map;
use crate::{ConnectionId, IdMapState, StoreError};

/// The `external_source` of SmartSuite records.
pub const SMARTSUITE: &str = "smartsuite";

/// Which record an entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordKey<'a> {
    pub connection_id: ConnectionId,
    pub external_source: &'a str,
    pub external_id: &'a str,
}

impl<'a> RecordKey<'a> {
    /// A SmartSuite record of `connection_id`.
    pub fn smartsuite(connection_id: ConnectionId, record_id: &'a str) -> Self {
        Self {
            connection_id,
            external_source: SMARTSUITE,
            external_id: record_id,
        }
    }
}

/// A row of `id_map`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = id_map, check_for_backend(diesel::pg::Pg))]
pub struct IdMapEntry {
    pub connection_id: ConnectionId,
    pub external_source: String,
    pub external_id: String,
    /// `None` only while `creating` and the create's outcome is unknown.
    pub webflow_item_id: Option<String>,
    pub slug: Option<String>,
    pub state: IdMapState,
    /// SHA-256 hex of the last fieldData sent.
    pub field_data_hash: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// The files last sent for the item, by Webflow field (`None`: not known).
    pub files: Option<serde_json::Value>,
    /// The record's last-modified time (SmartSuite's clock) of the state last written to the
    /// item (`None`: not known).
    pub source_modified_at: Option<OffsetDateTime>,
}

impl IdMapEntry {
    /// Whether this is the entry of record `key`.
    pub fn is_of(&self, key: RecordKey<'_>) -> bool {
        self.connection_id == key.connection_id
            && self.external_source == key.external_source
            && self.external_id == key.external_id
    }
}

/// The entry of a record, if any.
pub async fn lookup(
    conn: &mut AsyncPgConnection,
    key: RecordKey<'_>,
) -> Result<Option<IdMapEntry>, StoreError> {
    Ok(id_map::table
        .find((key.connection_id, key.external_source, key.external_id))
        .select(IdMapEntry::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Entries of many records of one connection and source (linked-record resolution).
pub async fn lookup_many(
    conn: &mut AsyncPgConnection,
    connection_id: ConnectionId,
    external_source: &str,
    external_ids: &[&str],
) -> Result<Vec<IdMapEntry>, StoreError> {
    Ok(id_map::table
        .filter(id_map::connection_id.eq(connection_id))
        .filter(id_map::external_source.eq(external_source))
        .filter(id_map::external_id.eq_any(external_ids))
        .select(IdMapEntry::as_select())
        .load(conn)
        .await?)
}

/// The connection's entries that hold any of `item_ids`: whether an item already belongs to a
/// record.
pub async fn holders(
    conn: &mut AsyncPgConnection,
    connection_id: ConnectionId,
    item_ids: &[&str],
) -> Result<Vec<IdMapEntry>, StoreError> {
    Ok(id_map::table
        .filter(id_map::connection_id.eq(connection_id))
        .filter(id_map::webflow_item_id.eq_any(item_ids))
        .filter(id_map::state.ne(IdMapState::Deleted))
        .select(IdMapEntry::as_select())
        .load(conn)
        .await?)
}

/// Every entry of a connection (what a backfill plans against).
pub async fn entries_of(
    conn: &mut AsyncPgConnection,
    connection_id: ConnectionId,
) -> Result<Vec<IdMapEntry>, StoreError> {
    Ok(id_map::table
        .filter(id_map::connection_id.eq(connection_id))
        .select(IdMapEntry::as_select())
        .load(conn)
        .await?)
}

/// The entries of the connection's other records (not `key`'s) that hold `slug`: whether an
/// item with that slug belongs to another record.
pub async fn others_with_slug(
    conn: &mut AsyncPgConnection,
    key: RecordKey<'_>,
    slug: &str,
) -> Result<Vec<IdMapEntry>, StoreError> {
    Ok(id_map::table
        .filter(id_map::connection_id.eq(key.connection_id))
        .filter(id_map::slug.eq(slug))
        .filter(
            id_map::external_source
                .ne(key.external_source)
                .or(id_map::external_id.ne(key.external_id)),
        )
        .select(IdMapEntry::as_select())
        .load(conn)
        .await?)
}

/// The connection's entries that name any of `slugs` (which records hold, or are creating, an
/// item with one of them).
pub async fn with_slugs(
    conn: &mut AsyncPgConnection,
    connection_id: ConnectionId,
    slugs: &[&str],
) -> Result<Vec<IdMapEntry>, StoreError> {
    Ok(id_map::table
        .filter(id_map::connection_id.eq(connection_id))
        .filter(id_map::slug.eq_any(slugs))
        .select(IdMapEntry::as_select())
        .load(conn)
        .await?)
}

/// Records the intent to create the record's item with `slug`, before calling Webflow: the
/// entry becomes `creating` with that slug (an existing entry keeps its item id, if any).
pub async fn record_intent(
    conn: &mut AsyncPgConnection,
    key: RecordKey<'_>,
    slug: &str,
) -> Result<IdMapEntry, StoreError> {
    use id_map::dsl as m;
    Ok(diesel::insert_into(id_map::table)
        .values((
            m::connection_id.eq(key.connection_id),
            m::external_source.eq(key.external_source),
            m::external_id.eq(key.external_id),
            m::slug.eq(slug),
            m::state.eq(IdMapState::Creating),
        ))
        .on_conflict((m::connection_id, m::external_source, m::external_id))
        .do_update()
        .set((m::slug.eq(slug), m::state.eq(IdMapState::Creating)))
        .returning(IdMapEntry::as_returning())
        .get_result(conn)
        .await?)
}

/// Records that the record's item is `webflow_item_id` (with `slug`), holding the fieldData
/// whose hash is `field_data_hash`: state `synced`. A `None` hash says the item's content is
/// not known to be the record's (an adopted item that still needs its update), so the next
/// write of the record is never skipped as unchanged.
pub async fn mark_synced(
    conn: &mut AsyncPgConnection,
    key: RecordKey<'_>,
    webflow_item_id: &str,
    slug: Option<&str>,
    field_data_hash: Option<&str>,
) -> Result<IdMapEntry, StoreError> {
    let written = Written {
        webflow_item_id,
        slug,
        field_data_hash,
        files: None,
        source_modified_at: None,
    };
    mark_written(conn, key, &written).await
}

/// What was written to a record's item, for [`mark_written`].
#[derive(Debug, Clone, Copy)]
pub struct Written<'a> {
    pub webflow_item_id: &'a str,
    pub slug: Option<&'a str>,
    /// The hash of the fieldData sent (`None`: the item's content is not known to be the
    /// record's).
    pub field_data_hash: Option<&'a str>,
    /// The files the item now holds (`{field: value sent}`; `None`: not known).
    pub files: Option<&'a serde_json::Value>,
    /// The record's last-modified time of the state written (`None`: not known). The stored
    /// time never goes back: two writers racing on one record keep the later one.
    pub source_modified_at: Option<OffsetDateTime>,
}

/// [`mark_synced`], remembering the files the item now holds, so that a later write leaves out
/// the ones that did not change (Webflow fetches a file again on every write that carries it),
/// and the record's last-modified time of the state written, so that an older state is never
/// written over it.
pub async fn mark_written(
    conn: &mut AsyncPgConnection,
    key: RecordKey<'_>,
    written: &Written<'_>,
) -> Result<IdMapEntry, StoreError> {
    use id_map::dsl as m;
    Ok(diesel::insert_into(id_map::table)
        .values((
            m::connection_id.eq(key.connection_id),
            m::external_source.eq(key.external_source),
            m::external_id.eq(key.external_id),
            m::webflow_item_id.eq(written.webflow_item_id),
            m::slug.eq(written.slug),
            m::state.eq(IdMapState::Synced),
            m::field_data_hash.eq(written.field_data_hash),
            m::files.eq(written.files),
            m::source_modified_at.eq(written.source_modified_at),
        ))
        .on_conflict((m::connection_id, m::external_source, m::external_id))
        .do_update()
        .set((
            m::webflow_item_id.eq(written.webflow_item_id),
            m::slug.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Text>,
            >("coalesce(excluded.slug, id_map.slug)")),
            m::state.eq(IdMapState::Synced),
            m::field_data_hash.eq(written.field_data_hash),
            m::files.eq(written.files),
            m::source_modified_at.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
            >(
                "greatest(excluded.source_modified_at, id_map.source_modified_at)",
            )),
        ))
        .returning(IdMapEntry::as_returning())
        .get_result(conn)
        .await?)
}

/// Makes `webflow_item_id` the record's item (`synced`, as [`mark_synced`]) only when neither
/// the record nor the item has an entry yet; `false` when one had (nothing changed).
pub async fn adopt(
    conn: &mut AsyncPgConnection,
    key: RecordKey<'_>,
    webflow_item_id: &str,
    slug: Option<&str>,
    field_data_hash: Option<&str>,
) -> Result<bool, StoreError> {
    use id_map::dsl as m;
    // No conflict target: the record's primary key and the one-record-per-item index both
    // make the insert a no-op.
    let inserted = diesel::insert_into(id_map::table)
        .values((
            m::connection_id.eq(key.connection_id),
            m::external_source.eq(key.external_source),
            m::external_id.eq(key.external_id),
            m::webflow_item_id.eq(webflow_item_id),
            m::slug.eq(slug),
            m::state.eq(IdMapState::Synced),
            m::field_data_hash.eq(field_data_hash),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// Records that the record's item was deleted (or archived/unpublished for a deleted record).
/// `None` when the record has no entry.
pub async fn mark_deleted(
    conn: &mut AsyncPgConnection,
    key: RecordKey<'_>,
) -> Result<Option<IdMapEntry>, StoreError> {
    Ok(diesel::update(id_map::table.find((
        key.connection_id,
        key.external_source,
        key.external_id,
    )))
    .filter(id_map::webflow_item_id.is_not_null())
    .set((
        id_map::state.eq(IdMapState::Deleted),
        id_map::field_data_hash.eq(None::<String>),
    ))
    .returning(IdMapEntry::as_returning())
    .get_result(conn)
    .await
    .optional()?)
}

/// Forgets a record's entry (a `creating` entry whose create certainly did not happen).
pub async fn remove(conn: &mut AsyncPgConnection, key: RecordKey<'_>) -> Result<bool, StoreError> {
    let deleted = diesel::delete(id_map::table.find((
        key.connection_id,
        key.external_source,
        key.external_id,
    )))
    .execute(conn)
    .await?;
    Ok(deleted == 1)
}
