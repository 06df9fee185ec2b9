//! Answers to the mapper's questions about a record: the public URLs of its SmartSuite files
//! and the Webflow item ids of the records it links to (from the id map of this connection or
//! the one a `reference` field names). Shared by the worker and the preview, so a preview shows
//! what the worker would write.

use std::collections::HashMap;

use suiteflow_mapper::{Lookups, MapResolvers};
use suiteflow_smartsuite_client::SmartSuiteClient;
use suiteflow_store::id_map::{self, SMARTSUITE};
use suiteflow_store::{ConnectionId, IdMapState, Store};

use crate::failure::Failure;

/// The resolvers for one record, and the files whose URL could not be had.
pub struct Resolution {
    pub resolvers: MapResolvers,
    pub unresolved_files: Vec<(String, Failure)>,
}

/// Resolves `lookups` for a record of connection `owner`. `file_urls` caches URLs by handle
/// across records (they live for years). A linked record resolves only once its item is
/// synced; one without an item yet is left for the mapper to warn about.
pub async fn resolve(
    store: &Store,
    smartsuite: &SmartSuiteClient,
    file_urls: Option<&moka::sync::Cache<String, String>>,
    owner: ConnectionId,
    lookups: Lookups,
) -> Result<Resolution, Failure> {
    let mut resolvers = MapResolvers::default();
    let mut unresolved_files = Vec::new();
    for handle in lookups.file_handles {
        let cached = file_urls.and_then(|cache| cache.get(&handle));
        let url = match cached {
            Some(url) => url,
            None => match smartsuite.shared_file_url(&handle).await {
                Ok(url) => {
                    if let Some(cache) = file_urls {
                        cache.insert(handle.clone(), url.clone());
                    }
                    url
                }
                Err(e) => {
                    unresolved_files.push((handle, Failure::from(e)));
                    continue;
                }
            },
        };
        resolvers = resolvers.with_file(&handle, &url);
    }

    let mut by_connection: HashMap<Option<String>, Vec<String>> = HashMap::new();
    for (connection, record) in lookups.linked_records {
        by_connection.entry(connection).or_default().push(record);
    }
    for (connection, records) in by_connection {
        let connection_id = match &connection {
            None => owner,
            // The validator refuses a `connection` that is not a uuid.
            Some(text) => match text.parse::<ConnectionId>() {
                Ok(id) => id,
                Err(_) => continue,
            },
        };
        let ids: Vec<&str> = records.iter().map(String::as_str).collect();
        let mut conn = store.get().await?;
        let entries = id_map::lookup_many(&mut conn, connection_id, SMARTSUITE, &ids).await?;
        for entry in entries {
            if let (IdMapState::Synced, Some(item)) = (entry.state, &entry.webflow_item_id) {
                resolvers = resolvers.with_record(connection.as_deref(), &entry.external_id, item);
            }
        }
    }
    Ok(Resolution {
        resolvers,
        unresolved_files,
    })
}
