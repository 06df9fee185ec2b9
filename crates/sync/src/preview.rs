//! A preview: one live SmartSuite record mapped with a mapping document against the live
//! schemas, exactly as the worker would map it, writing nothing.

use serde_json::Value;
use suiteflow_mapper::{MapError, MappedItem, MappingDocument, MappingProblem};
use suiteflow_smartsuite_client::Error as SmartSuiteError;
use suiteflow_store::{Connection, Store};

use crate::connect::Connector;
use crate::failure::Failure;
use crate::resolve::resolve;

/// A mapped record, or the required fields it lacks (with the warnings that explain them).
pub struct Preview {
    pub mapped: Result<MappedItem, MapError>,
    /// Whether the mapping spelled other scripts in Latin letters for the slug
    /// (`transliterateSlugs`).
    pub transliterate_slugs: bool,
    /// Files whose public URL SmartSuite did not give (the worker would retry the event).
    pub unresolved_files: Vec<(String, Failure)>,
}

/// Why there is no preview.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// The document does not fit the live schemas; every problem is listed.
    #[error("the mapping does not fit the live schemas ({} problems)", .0.len())]
    Invalid(Vec<MappingProblem>),
    /// The table has no such record.
    #[error("no record {record_id} in SmartSuite table {table_id}")]
    NoRecord { record_id: String, table_id: String },
    /// A credential, an API or the database failed.
    #[error("{0}")]
    Failed(#[from] Failure),
}

/// Maps record `record_id` of `connection`'s table with `doc`.
pub async fn preview(
    store: &Store,
    connector: &Connector,
    connection: &Connection,
    doc: &MappingDocument,
    record_id: &str,
) -> Result<Preview, PreviewError> {
    let session = connector.session(store, connection)?;
    let (clients, smartsuite) = (&session.clients, &session.smartsuite);
    let schemas = session.schemas().await?;
    let compiled = suiteflow_mapper::validate(doc, &schemas.table, &schemas.collection)
        .map_err(PreviewError::Invalid)?;
    let read = smartsuite
        .call(
            "record",
            clients
                .smartsuite
                .get_record(&connection.smartsuite_table_id, record_id),
        )
        .await;
    let record = match read {
        Ok(record) => Value::Object(record.0),
        Err(f) if matches!(f.smartsuite(), Some(SmartSuiteError::NotFound { .. })) => {
            return Err(PreviewError::NoRecord {
                record_id: record_id.to_owned(),
                table_id: connection.smartsuite_table_id.clone(),
            });
        }
        Err(f) => return Err(f.into()),
    };
    let resolution = resolve(
        store,
        &clients.smartsuite,
        smartsuite,
        connection.id,
        compiled.lookups(&record),
    )
    .await?;
    Ok(Preview {
        mapped: compiled.map_record_with_id(&record, Some(record_id), &resolution.resolvers),
        transliterate_slugs: compiled.transliterates_slugs(),
        unresolved_files: resolution.unresolved_files,
    })
}
