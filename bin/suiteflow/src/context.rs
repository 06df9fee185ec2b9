//! What every database command shares: the settings, a database connection pool, output mode,
//! and the helpers that turn a stored connection into API clients.

use suiteflow_crypto::SecretString;
use suiteflow_smartsuite_client::SmartSuiteClient;
use suiteflow_store::{Connection, ConnectionId, PooledConnection, Sealed, SecretColumn, Store};
use suiteflow_webflow_client::WebflowClient;

use crate::Settings;
use crate::error::{CliResult, ResultExt as _, failure, refused, usage};

/// The SmartSuite API key variable (never a flag).
pub const SMARTSUITE_API_KEY: &str = "SMARTSUITE_API_KEY";
/// The Webflow token variable (never a flag).
pub const WEBFLOW_TOKEN: &str = "WEBFLOW_TOKEN";

pub struct Context {
    pub settings: Settings,
    pub store: Store,
    /// `--json`
    pub json: bool,
}

impl Context {
    pub async fn connect(settings: Settings, json: bool) -> CliResult<Self> {
        let mut database = settings.database.clone();
        database.pool_size = 4;
        let store = Store::connect(&database)
            .await
            .or_fail("cannot reach the database")?;
        Ok(Self {
            settings,
            store,
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

    /// Opens one of a connection's sealed secrets.
    pub fn open(
        &self,
        id: ConnectionId,
        column: SecretColumn,
        sealed: &Sealed,
    ) -> CliResult<SecretString> {
        column.open(&self.settings.keys, id, sealed).map_err(|e| {
            failure(format!(
                "cannot decrypt the connection's {}: {e} (sealed with a key that is neither \
                 DATA_ENCRYPTION_KEY nor DATA_ENCRYPTION_KEY_PREVIOUS?)",
                column.name()
            ))
        })
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

    /// A SmartSuite client with the connection's API key.
    pub fn smartsuite(&self, connection: &Connection) -> CliResult<SmartSuiteClient> {
        let key = self.open(
            connection.id,
            SecretColumn::SmartSuiteApiKey,
            &connection.smartsuite_api_key.sealed(),
        )?;
        SmartSuiteClient::builder(
            self.settings.api.smartsuite.clone(),
            self.settings.api.smartsuite_webhooks.clone(),
            connection.smartsuite_account_id.clone(),
            key,
        )
        .build()
        .or_fail("building the SmartSuite client")
    }

    /// A Webflow client with the connection's token.
    pub fn webflow(&self, connection: &Connection) -> CliResult<WebflowClient> {
        let token = self.open(
            connection.id,
            SecretColumn::WebflowToken,
            &connection.webflow_token.sealed(),
        )?;
        WebflowClient::new(self.settings.api.webflow.clone(), token)
            .or_fail("building the Webflow client")
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
