//! Mapping documents, one per connection, versioned.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use time::OffsetDateTime;

use crate::schema::mappings;
use crate::{ConnectionId, StoreError, StoredDeleteBehavior};

/// A connection's mapping document as stored, one column per key.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    pub connection_id: ConnectionId,
    pub field_map: Value,
    pub slug_template: Option<String>,
    pub status_behavior: Option<Value>,
    pub delete_behavior: StoredDeleteBehavior,
    pub required_fields: Vec<String>,
    /// The document's `match` (a JSON object), when it has one.
    pub match_rule: Option<Value>,
    /// The document's `transliterateSlugs`. Off for the mappings stored before the option
    /// existed.
    pub transliterate_slugs: bool,
    /// 1 for the first mapping, + 1 with every [`set_mapping`].
    pub version: i32,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = mappings, check_for_backend(diesel::pg::Pg))]
struct MappingRow {
    connection_id: ConnectionId,
    field_map: Value,
    slug_template: Option<String>,
    status_behavior: Option<Value>,
    delete_behavior: StoredDeleteBehavior,
    required_fields: Vec<Option<String>>,
    match_rule: Option<Value>,
    transliterate_slugs: bool,
    version: i32,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<MappingRow> for Mapping {
    fn from(r: MappingRow) -> Self {
        Self {
            connection_id: r.connection_id,
            field_map: r.field_map,
            slug_template: r.slug_template,
            status_behavior: r.status_behavior,
            delete_behavior: r.delete_behavior,
            required_fields: r.required_fields.into_iter().flatten().collect(),
            match_rule: r.match_rule,
            transliterate_slugs: r.transliterate_slugs,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A mapping to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMapping {
    /// A JSON object: target field → rule.
    pub field_map: Value,
    pub slug_template: Option<String>,
    pub status_behavior: Option<Value>,
    pub delete_behavior: StoredDeleteBehavior,
    pub required_fields: Vec<String>,
    pub match_rule: Option<Value>,
    /// Stored as given: the writer decides what a document without the key becomes.
    pub transliterate_slugs: bool,
}

/// The connection's mapping, if it has one.
pub async fn get_mapping(
    conn: &mut AsyncPgConnection,
    connection_id: ConnectionId,
) -> Result<Option<Mapping>, StoreError> {
    let row = mappings::table
        .find(connection_id)
        .select(MappingRow::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(Mapping::from))
}

/// Stores the connection's mapping (creating it at version 1, or replacing it and bumping the
/// version) and returns it.
pub async fn set_mapping(
    conn: &mut AsyncPgConnection,
    connection_id: ConnectionId,
    mapping: &NewMapping,
) -> Result<Mapping, StoreError> {
    use mappings::dsl as m;
    let required: Vec<Option<&str>> = mapping
        .required_fields
        .iter()
        .map(|f| Some(f.as_str()))
        .collect();
    let row = diesel::insert_into(mappings::table)
        .values((
            m::connection_id.eq(connection_id),
            m::field_map.eq(&mapping.field_map),
            m::slug_template.eq(mapping.slug_template.as_deref()),
            m::status_behavior.eq(mapping.status_behavior.as_ref()),
            m::delete_behavior.eq(mapping.delete_behavior),
            m::required_fields.eq(&required),
            m::match_rule.eq(mapping.match_rule.as_ref()),
            m::transliterate_slugs.eq(mapping.transliterate_slugs),
        ))
        .on_conflict(m::connection_id)
        .do_update()
        .set((
            m::field_map.eq(&mapping.field_map),
            m::slug_template.eq(mapping.slug_template.as_deref()),
            m::status_behavior.eq(mapping.status_behavior.as_ref()),
            m::delete_behavior.eq(mapping.delete_behavior),
            m::required_fields.eq(&required),
            m::match_rule.eq(mapping.match_rule.as_ref()),
            m::transliterate_slugs.eq(mapping.transliterate_slugs),
            m::version.eq(m::version + 1),
        ))
        .returning(MappingRow::as_returning())
        .get_result(conn)
        .await?;
    Ok(row.into())
}

/// One version of a connection's mapping, as the document a person wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct MappingVersion {
    pub version: i32,
    /// `fieldMap`, `slugTemplate`, … (keys without a value left out).
    pub document: Value,
    pub created_at: OffsetDateTime,
}

/// Every version of the connection's mapping, newest first.
pub async fn mapping_versions(
    conn: &mut AsyncPgConnection,
    connection_id: ConnectionId,
) -> Result<Vec<MappingVersion>, StoreError> {
    use crate::schema::mapping_versions as v;
    let rows: Vec<(i32, Value, OffsetDateTime)> = v::table
        .filter(v::connection_id.eq(connection_id))
        .order(v::version.desc())
        .select((v::version, v::document, v::created_at))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(version, document, created_at)| MappingVersion {
            version,
            document,
            created_at,
        })
        .collect())
}
