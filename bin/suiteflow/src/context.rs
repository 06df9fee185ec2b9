//! What every database command shares: the settings, a database connection pool, output mode,
//! and the sync engine's [`Connector`], which turns a stored connection into API clients and
//! schemas for the commands as it does for the worker.

use suiteflow_crypto::SecretString;
use suiteflow_store::{Connection, ConnectionId, PooledConnection, Sealed, SecretColumn, Store};
use suiteflow_sync::{Connector, Session};

use crate::Settings;
use crate::error::{CliResult, ResultExt as _, failure, refused, usage};

/// The SmartSuite API key variable (never a flag).
pub const SMARTSUITE_API_KEY: &str = "SMARTSUITE_API_KEY";
/// The Webflow token variable (never a flag).
pub const WEBFLOW_TOKEN: &str = "WEBFLOW_TOKEN";

pub struct CommandContext {
    pub settings: Settings,
    pub store: Store,
    pub connector: Connector,
    /// `--json`
    pub json: bool,
}

impl CommandContext {
    pub async fn connect(settings: Settings, json: bool) -> CliResult<Self> {
        let mut database = settings.database.clone();
        database.pool_size = 4;
        let store = Store::connect(&database)
            .await
            .or_fail("cannot reach the database")?;
        let connector = Connector::new(settings.keys.clone(), settings.api.clone());
        Ok(Self {
            settings,
            store,
            connector,
            json,
        })
    }

    /// A database connection from the pool.
    pub async fn db(&self) -> CliResult<PooledConnection> {
        self.store.get().await.or_fail("cannot reach the database")
    }

    /// The connection named by `reference`: its id, or its name when that is unique.
    /// Refused (exit 3) when there is none.
    pub async fn connection(&self, reference: &str) -> CliResult<Connection> {
        let mut db = self.db().await?;
        if let Ok(id) = reference.trim().parse::<ConnectionId>() {
            return suiteflow_store::get_connection(&mut db, id)
                .await
                .or_fail("loading the connection")?
                .ok_or_else(|| refused(format!("unknown connection {reference}")));
        }
        let mut named: Vec<Connection> = suiteflow_store::list_connections(&mut db)
            .await
            .or_fail("loading connections")?
            .into_iter()
            .filter(|c| c.name == reference)
            .collect();
        match named.len() {
            0 => Err(refused(format!("unknown connection {reference}"))),
            1 => Ok(named.remove(0)),
            n => Err(refused(format!(
                "{n} connections are named {reference:?}: use the connection id"
            ))),
        }
    }

    /// Seals a secret for a column of connection `id` with the current key.
    pub fn seal(
        &self,
        id: ConnectionId,
        column: SecretColumn,
        plaintext: &str,
    ) -> CliResult<Sealed> {
        column
            .seal(&self.settings.keys, id, plaintext)
            .or_fail("encrypting a secret")
    }

    /// The connection's clients with their shared budgets: every call a command makes is
    /// paid for like the worker's.
    pub fn session<'a>(&'a self, connection: &'a Connection) -> CliResult<Session<'a>> {
        self.connector
            .session(&self.store, connection)
            .map_err(failure)
    }
}

/// A secret from the environment only; missing or empty is a configuration error (exit 2).
pub fn secret_from_env(variable: &str, what: &str) -> CliResult<SecretString> {
    match std::env::var(variable) {
        Ok(value) if !value.trim().is_empty() => Ok(SecretString::new(value.trim())),
        _ => Err(usage(format!(
            "{variable}: is required (the {what}); it is read only from the environment, never \
             from a flag"
        ))),
    }
}
