//! The engine: claimed events of one connection in, outcomes out. It owns the contexts of the
//! connections it has seen; the caller (the worker) owns claiming and recording.

use std::sync::Arc;

use suiteflow_store::{Connection, ConnectionId, Event, Store};

use crate::connect::Connector;
use crate::context::{Cached, ConnectionContext, ContextCache, fingerprint};
use crate::failure::Failure;
use crate::failure::{FailureKind, Wait};
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

    /// Schemas are read again once `ttl` old (`SCHEMA_TTL_SECS`).
    pub fn with_schema_ttl(self, ttl: std::time::Duration) -> Self {
        Self {
            cache: ContextCache::new(ttl),
            ..self
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
        let previous = match self.cache.get(id, &fingerprint) {
            Cached::Fresh(built) => {
                return Ok(ConnectionContext {
                    connection,
                    built,
                    fresh: false,
                });
            }
            Cached::Stale(built) => Some(built),
            Cached::Missing => None,
        };
        match self
            .connector
            .build(&self.store, &connection, mapping.as_ref())
            .await
        {
            Ok(built) => {
                if let Some(previous) = &previous {
                    built.inherit(previous).await;
                    if built.schemas_hash != previous.schemas_hash {
                        tracing::info!(connection_id = %id.0, "the schemas changed; the mapping was compiled again");
                    }
                }
                let built = Arc::new(built);
                self.cache.put(id, built.clone());
                Ok(ConnectionContext {
                    connection,
                    built,
                    fresh: true,
                })
            }
            Err(failure) => Err(ContextError {
                failure,
                connection: Some(connection),
            }),
        }
    }

    /// Writes one connection's claimed `record` events to Webflow. A refusal that suggests the
    /// schemas changed since they were read (Webflow naming a field or an option, a required
    /// field without a value) puts its event back without spending an attempt, and the
    /// schemas are read again before the next batch: a new option or field works at once, and
    /// a mapping that no longer fits stops the connection instead of dead-lettering its events.
    pub async fn write(&self, ctx: &ConnectionContext, events: &[Event]) -> Written {
        let mut written = crate::write::write(&self.store, ctx, events).await;
        let mut drift = false;
        for (_, outcome) in &mut written.outcomes {
            if let Outcome::Failed(failure) = outcome {
                if !ctx.fresh && failure.suggests_drift() {
                    *failure = failure
                        .clone()
                        .rescheduled(time::OffsetDateTime::now_utc(), Wait::Schema);
                }
                drift |= matches!(
                    failure.kind(),
                    FailureKind::Reschedule {
                        wait: Wait::Schema,
                        ..
                    }
                );
            }
        }
        if drift {
            tracing::info!(connection_id = %ctx.id().0, "a write suggests the schemas changed; reading them again");
            self.cache.mark_stale(ctx.id());
        }
        written
    }

    /// Processes a `pull` event: SmartSuite's changes become `record` events.
    pub async fn pull(&self, ctx: &ConnectionContext, worker: &str, event: &Event) -> Outcome {
        crate::pull::pull(&self.store, ctx, worker, event).await
    }
}
