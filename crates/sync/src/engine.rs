//! The engine: claimed events of one connection in, outcomes out. It owns the contexts of the
//! connections it has seen; the caller (the worker) owns claiming and recording.

use std::sync::Arc;

use suiteflow_store::{Connection, ConnectionId, Event, Store};

use crate::connect::Connector;
use crate::context::{ConnectionContext, ContextCache, fingerprint};
use crate::failure::Failure;
use crate::outcome::Outcome;
use crate::write::Written;

/// A connection whose context could not be built, with the row when it was read (for its
/// retry policy).
#[derive(Debug)]
pub struct ContextError {
    pub failure: Failure,
    pub connection: Option<Connection>,
}

impl ContextError {
    fn without_row(failure: impl Into<Failure>) -> Self {
        Self {
            failure: failure.into(),
            connection: None,
        }
    }
}

pub struct Engine {
    store: Store,
    connector: Connector,
    cache: ContextCache,
}

impl Engine {
    pub fn new(store: Store, connector: Connector) -> Self {
        Self {
            store,
            connector,
            cache: ContextCache::default(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    /// The connection with its clients and mapping, rebuilt only when they changed.
    pub async fn context(&self, id: ConnectionId) -> Result<ConnectionContext, ContextError> {
        let mut conn = self.store.get().await.map_err(ContextError::without_row)?;
        let connection = suiteflow_store::get_connection(&mut conn, id)
            .await
            .map_err(ContextError::without_row)?
            .ok_or_else(|| {
                ContextError::without_row(Failure::permanent("the connection no longer exists"))
            })?;
        let mapping = suiteflow_store::get_mapping(&mut conn, id)
            .await
            .map_err(ContextError::without_row)?;
        drop(conn);
        let fingerprint = fingerprint(&connection, mapping.as_ref());
        if let Some(built) = self.cache.get(id, &fingerprint) {
            return Ok(ConnectionContext { connection, built });
        }
        match self
            .connector
            .build(&self.store, &connection, mapping.as_ref())
            .await
        {
            Ok(built) => {
                let built = Arc::new(built);
                self.cache.put(id, built.clone());
                Ok(ConnectionContext { connection, built })
            }
            Err(failure) => Err(ContextError {
                failure,
                connection: Some(connection),
            }),
        }
    }

    /// Writes one connection's claimed `record` events to Webflow.
    pub async fn write(&self, ctx: &ConnectionContext, events: &[Event]) -> Written {
        crate::write::write(&self.store, ctx, events).await
    }

    /// Processes a `pull` event: SmartSuite's changes become `record` events.
    pub async fn pull(&self, ctx: &ConnectionContext, worker: &str, event: &Event) -> Outcome {
        crate::pull::pull(&self.store, ctx, worker, event).await
    }
}
