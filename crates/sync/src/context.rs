//! Everything the engine needs to process one connection's events: the connection row, its
//! clients and the names of their shared budgets, its mapping compiled against the live
//! schemas, and the per-connection state that outlives a batch (the collection index). Built
//! once and cached until the connection's credentials, ids or mapping version change, the
//! schemas grow older than `SCHEMA_TTL_SECS`, or a write suggests they changed (then they are
//! read again before the next write: see [`ContextCache::mark_stale`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use suiteflow_mapper::CompiledMapping;
use suiteflow_smartsuite_client::SmartSuiteClient;
use suiteflow_store::{Connection, ConnectionId, Mapping, Store, bucket};
use suiteflow_webflow_client::WebflowClient;

use crate::budget::{SmartSuiteBudget, WebflowBudget};
use crate::connect::{Clients, Connector, compile, read_schemas};
use crate::failure::Failure;

/// How many connections' built contexts one process keeps.
const CACHE_CAPACITY: u64 = 1_000;
/// A context unused this long is dropped (and built again when its connection has work).
const CACHE_IDLE: Duration = Duration::from_secs(3600);
/// How long schemas are trusted by default (`SCHEMA_TTL_SECS`).
pub const DEFAULT_SCHEMA_TTL: Duration = Duration::from_secs(300);

/// One connection, ready to process: the row as read for this batch, and what was built from
/// it (shared across batches while it holds).
pub struct ConnectionContext {
    pub connection: Connection,
    pub built: Arc<Built>,
    /// The schemas were read for this batch: a refusal that suggests they changed is the
    /// record's own fault, not drift.
    pub fresh: bool,
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
            &self.webflow_fingerprint,
            self.rate_window,
        )
    }

    /// The connection's SmartSuite budget (see [`SmartSuiteBudget`]).
    pub fn smartsuite_budget<'a>(&'a self, store: &'a Store) -> SmartSuiteBudget<'a> {
        SmartSuiteBudget::new(
            store,
            &self.smartsuite_fingerprint,
            self.smartsuite_penalty,
            self.monthly_quota,
        )
    }
}

/// Clients and compiled mapping of a connection, and its state across batches.
pub struct Built {
    /// What the clients and the mapping were built from (see [`fingerprint`]).
    pub fingerprint: String,
    pub webflow: WebflowClient,
    pub smartsuite: SmartSuiteClient,
    /// Fingerprints of the token and the key: the names of their shared budgets.
    pub webflow_fingerprint: String,
    pub smartsuite_fingerprint: String,
    /// `None` when the connection has no mapping yet (its record events wait).
    pub mapping: Option<CompiledMapping>,
    /// The window of the connection's write budget.
    pub rate_window: Duration,
    /// How long SmartSuite's 429 pauses the key; the plan's monthly quota, when known.
    pub smartsuite_penalty: Duration,
    pub monthly_quota: Option<u64>,
    /// The collection indexed by the mapping's match field (`match: {on: field}`), read on
    /// the first record that needs it and kept current with what changed since.
    pub match_index: tokio::sync::Mutex<Option<crate::index::CollectionIndex>>,
    /// The hash of the schemas the mapping was compiled against (`None` without a mapping).
    pub schemas_hash: Option<String>,
    /// When the schemas were read.
    pub read_at: Instant,
    /// A write suggested the schemas changed: read them again before the next batch.
    stale: AtomicBool,
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
    /// Builds a connection's context: opens its credentials, builds its clients (and records
    /// their fingerprints on the connection, for the claim's budget check), and, when it has a
    /// mapping, reads both schemas and compiles the mapping against them. Both reads are paid
    /// from the connection's budgets like any other call.
    pub async fn build(
        &self,
        store: &Store,
        connection: &Connection,
        mapping: Option<&Mapping>,
    ) -> Result<Built, Failure> {
        let clients = self.clients(connection)?;
        record_fingerprints(store, connection, &clients).await?;
        let read_at = Instant::now();
        let (compiled, schemas_hash) = match mapping {
            None => (None, None),
            Some(mapping) => {
                let doc = crate::mapping::document(mapping).map_err(|e| {
                    Failure::permanent(format!("the stored mapping does not parse: {e}"))
                })?;
                let webflow = self.webflow_budget(store, connection, &clients.webflow_fingerprint);
                let smartsuite = self.smartsuite_budget(store, &clients.smartsuite_fingerprint);
                let schemas = read_schemas(connection, &clients, &webflow, &smartsuite).await?;
                (Some(compile(&doc, &schemas)?), Some(schemas.hash))
            }
        };
        let Clients {
            webflow,
            smartsuite,
            webflow_fingerprint,
            smartsuite_fingerprint,
            ..
        } = clients;
        Ok(Built {
            fingerprint: fingerprint(connection, mapping),
            webflow,
            smartsuite,
            webflow_fingerprint,
            smartsuite_fingerprint,
            mapping: compiled,
            rate_window: self.options().rate_window,
            smartsuite_penalty: self.options().smartsuite_rate_limit_pause,
            monthly_quota: self.monthly_quota(),
            match_index: tokio::sync::Mutex::new(None),
            schemas_hash,
            read_at,
            stale: AtomicBool::new(false),
        })
    }
}

impl Built {
    /// Takes over what `previous` learnt that still holds: its collection index, when the
    /// schemas did not change (reading the collection again would cost a call per 100 items).
    pub async fn inherit(&self, previous: &Built) {
        if self.schemas_hash.is_some() && self.schemas_hash == previous.schemas_hash {
            let index = previous.match_index.lock().await.take();
            *self.match_index.lock().await = index;
        }
    }
}

/// What the cache holds for a connection.
pub enum Cached {
    /// Built from this fingerprint, schemas within their time to live.
    Fresh(Arc<Built>),
    /// Built from this fingerprint, but the schemas are to be read again.
    Stale(Arc<Built>),
    /// Nothing, or built from another fingerprint.
    Missing,
}

/// What was built per connection, reused while its fingerprint holds and its schemas are
/// younger than the time to live; bounded in size and dropped when unused.
pub struct ContextCache {
    inner: moka::sync::Cache<ConnectionId, Arc<Built>>,
    schema_ttl: Duration,
}

impl Default for ContextCache {
    fn default() -> Self {
        Self::new(DEFAULT_SCHEMA_TTL)
    }
}

impl ContextCache {
    /// Schemas are read again once `schema_ttl` old.
    pub fn new(schema_ttl: Duration) -> Self {
        Self {
            inner: moka::sync::Cache::builder()
                .max_capacity(CACHE_CAPACITY)
                .time_to_idle(CACHE_IDLE)
                .build(),
            schema_ttl,
        }
    }

    pub fn get(&self, id: ConnectionId, fingerprint: &str) -> Cached {
        match self.inner.get(&id) {
            Some(built) if built.fingerprint != fingerprint => Cached::Missing,
            Some(built)
                if built.stale.load(Ordering::Acquire)
                    || built.read_at.elapsed() >= self.schema_ttl =>
            {
                Cached::Stale(built)
            }
            Some(built) => Cached::Fresh(built),
            None => Cached::Missing,
        }
    }

    pub fn put(&self, id: ConnectionId, built: Arc<Built>) {
        self.inner.insert(id, built);
    }

    /// The schemas the connection's context was built from may have changed: they are read
    /// again before its next batch.
    pub fn mark_stale(&self, id: ConnectionId) {
        if let Some(built) = self.inner.get(&id) {
            built.stale.store(true, Ordering::Release);
        }
    }
}

/// Records the fingerprints of the connection's credentials, which name their shared budgets
/// (the claim checks them). When the data key was rotated, a credential's fingerprint changes
/// while the credential does not: what its budget knew (a pause, this month's calls) moves
/// to the new name. A new credential starts afresh.
async fn record_fingerprints(
    store: &Store,
    connection: &Connection,
    clients: &Clients,
) -> Result<(), Failure> {
    let stored = [
        connection.webflow_token_fingerprint.as_deref(),
        connection.smartsuite_key_fingerprint.as_deref(),
    ];
    let current = [
        clients.webflow_fingerprint.as_str(),
        clients.smartsuite_fingerprint.as_str(),
    ];
    if stored == current.map(Some) {
        return Ok(());
    }
    let mut conn = store.get().await?;
    let names: [fn(&str) -> String; 2] = [bucket::webflow_token, bucket::smartsuite_key];
    for (((stored, current), previous), name) in stored
        .into_iter()
        .zip(current)
        .zip(&clients.previous_fingerprints)
        .zip(names)
    {
        if let Some(old) = stored
            && old != current
            && previous.as_deref() == Some(old)
        {
            suiteflow_store::rekey(&mut conn, &name(old), &name(current)).await?;
        }
    }
    suiteflow_store::set_fingerprints(&mut conn, connection.id, current[0], current[1]).await?;
    Ok(())
}
