//! Everything the engine needs to process one connection's events: the connection row, its
//! clients, its mapping compiled against the live schemas, and the per-connection state that
//! outlives a batch (file URLs, Webflow's pause). Built once and cached until the connection's
//! credentials, ids or mapping version change.

use std::sync::Arc;
use std::time::Duration;

use suiteflow_mapper::CompiledMapping;
use suiteflow_smartsuite_client::SmartSuiteClient;
use suiteflow_store::{Connection, ConnectionId, Mapping, Store};
use suiteflow_webflow_client::WebflowClient;

use crate::budget::{Pause, WebflowBudget};
use crate::connect::{Clients, Connector, compile};
use crate::failure::Failure;

/// How many connections' built contexts one process keeps.
const CACHE_CAPACITY: u64 = 1_000;
/// A context unused this long is dropped (and built again when its connection has work).
const CACHE_IDLE: Duration = Duration::from_secs(3600);
/// How many SmartSuite file URLs one connection keeps.
const FILE_URL_CAPACITY: u64 = 10_000;
/// Shared-file URLs live for years; a day bounds what a stale one can cost.
const FILE_URL_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// One connection, ready to process: the row as read for this batch, and what was built from
/// it (shared across batches while it holds).
pub struct ConnectionContext {
    pub connection: Connection,
    pub built: Arc<Built>,
}

impl std::ops::Deref for ConnectionContext {
    type Target = Built;

    fn deref(&self) -> &Built {
        &self.built
    }
}

impl ConnectionContext {
    pub fn id(&self) -> ConnectionId {
        self.connection.id
    }

    pub fn collection_id(&self) -> &str {
        &self.connection.webflow_collection_id
    }

    pub fn table_id(&self) -> &str {
        &self.connection.smartsuite_table_id
    }

    /// The connection's Webflow budget for one batch (see [`WebflowBudget`]).
    pub fn budget<'a>(&'a self, store: &'a Store) -> WebflowBudget<'a> {
        WebflowBudget::new(
            store,
            &self.connection,
            self.rate_window,
            Some(&self.webflow_pause),
        )
    }
}

/// Clients and compiled mapping of a connection, and its state across batches.
pub struct Built {
    /// What the clients and the mapping were built from (see [`fingerprint`]).
    pub fingerprint: String,
    pub webflow: WebflowClient,
    pub smartsuite: SmartSuiteClient,
    /// `None` when the connection has no mapping yet (its record events wait).
    pub mapping: Option<CompiledMapping>,
    /// Public URLs of SmartSuite files, by handle.
    pub file_urls: moka::sync::Cache<String, String>,
    /// The window of the connection's write budget.
    pub rate_window: Duration,
    /// Webflow asked this connection to wait (`X-RateLimit-Remaining: 0` or a 429) until then.
    pub webflow_pause: Pause,
    /// The collection indexed by the mapping's match field (`match: {on: field}`), read on
    /// the first record that needs it and kept current with what changed since.
    pub match_index: tokio::sync::Mutex<Option<crate::index::CollectionIndex>>,
}

/// Everything the built part depends on: the sealed credentials, the ids of both ends and the
/// mapping version. Health fields and the events cursor change often and do not count.
pub fn fingerprint(connection: &Connection, mapping: Option<&Mapping>) -> String {
    format!(
        "{}|{}|{}|{}|{}|{}|{:?}",
        connection.smartsuite_api_key.sealed().ciphertext,
        connection.webflow_token.sealed().ciphertext,
        connection.smartsuite_account_id,
        connection.smartsuite_table_id,
        connection.webflow_collection_id,
        connection.encryption_key_id,
        mapping.map(|m| m.version),
    )
}

impl Connector {
    /// Builds a connection's context: opens its credentials, builds its clients, and, when it
    /// has a mapping, reads both schemas and compiles the mapping against them. The Webflow
    /// read is paid from the connection's budget like any other call.
    pub async fn build(
        &self,
        store: &Store,
        connection: &Connection,
        mapping: Option<&Mapping>,
    ) -> Result<Built, Failure> {
        let clients = self.clients(connection)?;
        let compiled = match mapping {
            None => None,
            Some(mapping) => {
                let doc = crate::mapping::document(mapping).map_err(|e| {
                    Failure::permanent(format!("the stored mapping does not parse: {e}"))
                })?;
                let budget =
                    WebflowBudget::new(store, connection, self.options().rate_window, None);
                let schemas = self.schemas(connection, &clients, Some(&budget)).await?;
                Some(compile(&doc, &schemas)?)
            }
        };
        let Clients {
            webflow,
            smartsuite,
        } = clients;
        Ok(Built {
            fingerprint: fingerprint(connection, mapping),
            webflow,
            smartsuite,
            mapping: compiled,
            file_urls: moka::sync::Cache::builder()
                .max_capacity(FILE_URL_CAPACITY)
                .time_to_live(FILE_URL_LIFETIME)
                .build(),
            rate_window: self.options().rate_window,
            webflow_pause: Pause::new(None),
            match_index: tokio::sync::Mutex::new(None),
        })
    }
}

/// What was built per connection, reused while its fingerprint holds; bounded in size and
/// dropped when unused.
pub struct ContextCache {
    inner: moka::sync::Cache<ConnectionId, Arc<Built>>,
}

impl Default for ContextCache {
    fn default() -> Self {
        Self {
            inner: moka::sync::Cache::builder()
                .max_capacity(CACHE_CAPACITY)
                .time_to_idle(CACHE_IDLE)
                .build(),
        }
    }
}

impl ContextCache {
    pub fn get(&self, id: ConnectionId, fingerprint: &str) -> Option<Arc<Built>> {
        self.inner
            .get(&id)
            .filter(|built| built.fingerprint == fingerprint)
    }

    pub fn put(&self, id: ConnectionId, built: Arc<Built>) {
        self.inner.insert(id, built);
    }
}
