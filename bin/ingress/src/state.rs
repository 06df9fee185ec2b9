//! What every request handler shares: the store, the keys, and a short-lived cache of the
//! connections' verification settings so the hot path costs one round trip (the insert).

use std::sync::Arc;
use std::time::Duration;

use suiteflow_crypto::{Keyring, SecretString};
use suiteflow_store::{
    ConnectionChange, ConnectionId, ConnectionStatus, SecretColumn, Store, StoreError,
    WebhookScheme,
};
use suiteflow_webhook_security::{Scheme, TimestampWindow, Verifier};

use crate::commit::Committer;

/// How long a connection's settings (and decrypted secret) are trusted before being read again.
/// A change to a connection is seen at once (its notification drops the cached copy); this is
/// the fallback when the notification is lost.
pub const CACHE_TTL: Duration = Duration::from_secs(5);
const CACHE_CAPACITY: u64 = 10_000;

/// A connection as the ingress needs it: its status and a ready verifier.
#[derive(Debug)]
pub struct Hook {
    pub id: ConnectionId,
    pub status: ConnectionStatus,
    pub verifier: Verifier,
    pub smartsuite_webhook_id: Option<String>,
    pub smartsuite_token_hash: Option<String>,
}

/// Why a connection could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The secret is sealed with a key that is neither `DATA_ENCRYPTION_KEY` nor
    /// `DATA_ENCRYPTION_KEY_PREVIOUS`.
    #[error("connection {0} has a webhook secret that does not open with the configured keys")]
    Secret(ConnectionId),
    /// The secret opens but cannot sign (a `standard` secret that is not `whsec_` base64).
    #[error("connection {id} has a webhook secret its scheme cannot use: {source}")]
    UnusableSecret {
        id: ConnectionId,
        source: suiteflow_webhook_security::SecretError,
    },
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Inserts events in group commits.
    pub committer: Committer,
    pub keys: Arc<Keyring>,
    pub window: TimestampWindow,
    hooks: moka::future::Cache<ConnectionId, Option<Arc<Hook>>>,
}

impl AppState {
    /// Also starts the group-commit task ([`Committer`]) on the current Tokio runtime.
    pub fn new(store: Store, pool_size: usize, keys: Keyring, window: TimestampWindow) -> Self {
        let hooks = moka::future::Cache::builder()
            .max_capacity(CACHE_CAPACITY)
            .time_to_live(CACHE_TTL)
            .build();
        Self {
            committer: Committer::start(store.clone(), pool_size),
            store,
            keys: Arc::new(keys),
            window,
            hooks,
        }
    }

    /// Drops a connection's cached copy as soon as it changes (a pause, a resume, an archive, a
    /// rotated secret, a new SmartSuite webhook), from the database's notifications on a
    /// connection of its own; every copy when some may have been missed.
    pub fn follow_changes(&self, database_url: &str) {
        let mut changes = suiteflow_store::follow_connection_changes(database_url);
        let hooks = self.hooks.clone();
        tokio::spawn(async move {
            while let Some(change) = changes.recv().await {
                match change {
                    ConnectionChange::Changed(id) => hooks.invalidate(&id).await,
                    ConnectionChange::Unknown => hooks.invalidate_all(),
                }
            }
        });
    }

    /// The connection's verification settings, from the cache or the database (concurrent
    /// misses for one connection share one query). `None`: no such connection (also cached, so
    /// a flood of unknown ids does not reach the database more than once per id and TTL).
    pub async fn hook(&self, id: ConnectionId) -> Result<Option<Arc<Hook>>, Arc<LoadError>> {
        self.hooks.try_get_with(id, self.load(id)).await
    }

    async fn load(&self, id: ConnectionId) -> Result<Option<Arc<Hook>>, LoadError> {
        let mut conn = self.store.get().await?;
        let Some(row) = suiteflow_store::get_connection(&mut conn, id).await? else {
            return Ok(None);
        };
        let scheme = match row.webhook_scheme {
            WebhookScheme::Hmac => Scheme::Hmac,
            WebhookScheme::Standard => Scheme::Standard,
        };
        let sealed = row.webhook_secret.sealed();
        let secret: SecretString = SecretColumn::WebhookSecret
            .open(&self.keys, id, &sealed)
            .map_err(|_| LoadError::Secret(id))?;
        let verifier = Verifier::new(scheme, &secret)
            .map_err(|source| LoadError::UnusableSecret { id, source })?;
        Ok(Some(Arc::new(Hook {
            id,
            status: row.status,
            verifier,
            smartsuite_webhook_id: row.smartsuite_webhook_id,
            smartsuite_token_hash: row.smartsuite_webhook_token_hash,
        })))
    }
}
