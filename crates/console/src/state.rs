//! What every handler shares: the store, the sync engine's connector, the keys and the
//! password, the login throttle, a short cache of the overview's figures, and the backfills
//! started from the console.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use suiteflow_crypto::{Keyring, PasswordHash};
use suiteflow_settings::parts::PublicUrl;
use suiteflow_store::{ConnectionId, Store};
use suiteflow_sync::Connector;

use crate::backfill::BackfillRun;
use crate::settings::ConsoleSettings;
use crate::views::Overview;

/// Failed logins allowed per client address and window.
pub const LOGIN_ATTEMPTS: u32 = 5;
/// The window of [`LOGIN_ATTEMPTS`], from the first failure.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(60);
/// How long the overview's figures are reused: they are the gauges' counting queries, run at
/// most this often however many people look.
pub const OVERVIEW_TTL: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    connector: Connector,
    keys: Keyring,
    public_url: PublicUrl,
    password: PasswordHash,
    failures: moka::sync::Cache<IpAddr, Arc<AtomicU32>>,
    overview: moka::future::Cache<(), Arc<Overview>>,
    backfills: Mutex<HashMap<ConnectionId, Arc<BackfillRun>>>,
}

impl AppState {
    pub fn new(store: Store, settings: &ConsoleSettings) -> Self {
        let connector = Connector::new(settings.keys.clone(), settings.api.clone());
        Self {
            inner: Arc::new(Inner {
                store,
                connector,
                keys: settings.keys.clone(),
                public_url: settings.public_url.clone(),
                password: settings.password.clone(),
                failures: moka::sync::Cache::builder()
                    .max_capacity(100_000)
                    .time_to_live(LOGIN_WINDOW)
                    .build(),
                overview: moka::future::Cache::builder()
                    .max_capacity(1)
                    .time_to_live(OVERVIEW_TTL)
                    .build(),
                backfills: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn connector(&self) -> &Connector {
        &self.inner.connector
    }

    pub fn keys(&self) -> &Keyring {
        &self.inner.keys
    }

    pub fn public_url(&self) -> &PublicUrl {
        &self.inner.public_url
    }

    pub fn password(&self) -> &PasswordHash {
        &self.inner.password
    }

    /// Whether `client` has used up its failed logins for now.
    pub fn login_throttled(&self, client: IpAddr) -> bool {
        self.inner
            .failures
            .get(&client)
            .is_some_and(|n| n.load(Ordering::Relaxed) >= LOGIN_ATTEMPTS)
    }

    /// Counts a failed login of `client`.
    pub fn login_failed(&self, client: IpAddr) {
        self.inner
            .failures
            .get_with(client, || Arc::new(AtomicU32::new(0)))
            .fetch_add(1, Ordering::Relaxed);
    }

    /// The overview, from the cache or built with `build`.
    pub async fn overview<F>(&self, build: F) -> Result<Arc<Overview>, Arc<crate::error::Failed>>
    where
        F: Future<Output = Result<Overview, crate::error::Failed>>,
    {
        self.inner
            .overview
            .try_get_with((), async { build.await.map(Arc::new) })
            .await
    }

    /// The backfills started from the console, by connection.
    pub fn backfills(&self) -> MutexGuard<'_, HashMap<ConnectionId, Arc<BackfillRun>>> {
        self.inner
            .backfills
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
