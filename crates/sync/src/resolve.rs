//! Answers to the mapper's questions about a record: the public URLs of its SmartSuite files
//! and the Webflow item ids of the records it links to (from the id map of this connection or
//! the one a `reference` field names). Shared by the worker and the preview, so a preview shows
//! what the worker would write.

use std::collections::HashMap;

use suiteflow_mapper::{Lookups, MapResolvers};
use suiteflow_smartsuite_client::SmartSuiteClient;
use suiteflow_store::id_map::{self, SMARTSUITE};
use suiteflow_store::{ConnectionId, IdMapState, Store};

use crate::budget::SmartSuiteBudget;
use crate::failure::Failure;

/// The resolvers for one record, the files whose URL could not be had, and the linked records
/// that have no Webflow item yet (connection, record).
pub struct Resolution {
    pub resolvers: MapResolvers,
    pub unresolved_files: Vec<(String, Failure)>,
    pub pending_links: Vec<(ConnectionId, String)>,
}

/// How long a shared-file URL is kept: SmartSuite issues them for twenty years; a year bounds
/// what a URL revoked early can cost.
const FILE_URL_LIFETIME: time::Duration = time::Duration::days(365);

/// Resolves `lookups` for a record of connection `owner`. File URLs come from the database when
/// known (a restart or another replica does not pay for them again), else from SmartSuite, paid
/// from the key's budget. A linked record resolves only once its item is synced; one without an
/// item yet is left for the mapper to warn about.
pub async fn resolve(
    store: &Store,
    smartsuite: &SmartSuiteClient,
    budget: &SmartSuiteBudget<'_>,
    owner: ConnectionId,
    lookups: Lookups,
) -> Result<Resolution, Failure> {
    let mut resolvers = MapResolvers::default();
    let mut unresolved_files = Vec::new();
    let known = if lookups.file_handles.is_empty() {
        HashMap::new()
    } else {
        let handles: Vec<&str> = lookups.file_handles.iter().map(String::as_str).collect();
        let mut conn = store.get().await?;
        suiteflow_store::file_urls(&mut conn, &handles).await?
    };
    for handle in lookups.file_handles {
        let url = match known.get(&handle) {
            Some(url) => url.clone(),
            None => match budget
                .call("file_url", smartsuite.shared_file_url(&handle))
                .await
            {
                Ok(url) => {
                    let mut conn = store.get().await?;
                    let expires = time::OffsetDateTime::now_utc() + FILE_URL_LIFETIME;
                    suiteflow_store::put_file_url(&mut conn, &handle, &url, expires).await?;
                    url
                }
                Err(failure) => {
                    unresolved_files.push((handle, failure));
                    continue;
                }
            },
        };
        resolvers = resolvers.with_file(&handle, &url);
    }

    let mut pending_links = Vec::new();
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
        let mut resolved = std::collections::HashSet::new();
        for entry in entries {
            if let (IdMapState::Synced, Some(item)) = (entry.state, &entry.webflow_item_id) {
                resolvers = resolvers.with_record(connection.as_deref(), &entry.external_id, item);
                resolved.insert(entry.external_id);
            }
        }
        pending_links.extend(
            records
                .into_iter()
                .filter(|r| !resolved.contains(r))
                .map(|r| (connection_id, r)),
        );
    }
    Ok(Resolution {
        resolvers,
        unresolved_files,
        pending_links,
    })
}
