//! From a stored connection to what talks to its two ends: the credentials opened with the
//! data key, the clients built, the SmartSuite table structure and the Webflow collection
//! schema read and turned into the mapper's view, and the mapping compiled against them. The
//! worker, the CLI and the console all build through [`Connector`].

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use suiteflow_crypto::{Keyring, SecretString};
use suiteflow_mapper::schema::{smartsuite::Table, webflow::Collection};
use suiteflow_mapper::{CompiledMapping, MappingDocument};
use suiteflow_settings::parts::ApiBases;
use suiteflow_smartsuite_client::SmartSuiteClient;
use suiteflow_store::{Connection, SecretColumn};
use suiteflow_webflow_client::WebflowClient;

use crate::Failure;
use crate::budget::WebflowBudget;

/// How the clients are built. The defaults are the worker's; tests shorten them.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub webflow_timeout: Duration,
    /// How often the Webflow client repeats a failed idempotent request on its own. The worker
    /// uses 0: every request must be paid for from the connection's shared budget, and whole
    /// events are retried with backoff instead. Commands run by a person keep the client's
    /// own retries ([`ClientOptions::interactive`]).
    pub webflow_retries: u32,
    /// How long SmartSuite's 429 pauses the key.
    pub smartsuite_rate_limit_pause: Duration,
    /// The window of a connection's `rate_limit_per_min` (a minute; tests scale the clock).
    pub rate_window: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            webflow_timeout: Duration::from_secs(30),
            webflow_retries: 0,
            smartsuite_rate_limit_pause: Duration::from_secs(30),
            rate_window: Duration::from_secs(60),
        }
    }
}

impl ClientOptions {
    /// For commands a person runs (the CLI, the console): the client retries a failed read
    /// itself before giving up.
    pub fn interactive() -> Self {
        Self {
            webflow_retries: 2,
            ..Self::default()
        }
    }
}

/// Both clients of a connection.
pub struct Clients {
    pub webflow: WebflowClient,
    pub smartsuite: SmartSuiteClient,
}

/// Both schemas of a connection, as the mapper sees them.
pub struct Schemas {
    pub table: Table,
    pub collection: Collection,
}

/// Builds clients, schemas and compiled mappings of stored connections.
#[derive(Debug, Clone)]
pub struct Connector {
    keys: Keyring,
    api: ApiBases,
    options: ClientOptions,
}

impl Connector {
    pub fn new(keys: Keyring, api: ApiBases) -> Self {
        Self {
            keys,
            api,
            options: ClientOptions::default(),
        }
    }

    pub fn with_options(mut self, options: ClientOptions) -> Self {
        self.options = options;
        self
    }

    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// The data keys secrets are sealed with.
    pub fn keys(&self) -> &Keyring {
        &self.keys
    }

    /// Opens one of the connection's sealed secrets. A secret sealed with a key that is
    /// neither `DATA_ENCRYPTION_KEY` nor `DATA_ENCRYPTION_KEY_PREVIOUS` is a permanent failure.
    pub fn open(
        &self,
        connection: &Connection,
        column: SecretColumn,
    ) -> Result<SecretString, Failure> {
        let sealed = match column {
            SecretColumn::SmartSuiteApiKey => connection.smartsuite_api_key.sealed(),
            SecretColumn::WebflowToken => connection.webflow_token.sealed(),
            SecretColumn::WebhookSecret => connection.webhook_secret.sealed(),
        };
        column
            .open(&self.keys, connection.id, &sealed)
            .map_err(|_| {
                Failure::permanent(format!(
                    "the connection's {} does not open with DATA_ENCRYPTION_KEY or \
                 DATA_ENCRYPTION_KEY_PREVIOUS",
                    column.name()
                ))
            })
    }

    /// The connection's Webflow client (no request is made).
    pub fn webflow(&self, connection: &Connection) -> Result<WebflowClient, Failure> {
        let token = self.open(connection, SecretColumn::WebflowToken)?;
        Ok(WebflowClient::builder(self.api.webflow.clone(), token)
            .timeout(self.options.webflow_timeout)
            .max_retries(self.options.webflow_retries)
            .build()?)
    }

    /// The connection's SmartSuite client (no request is made).
    pub fn smartsuite(&self, connection: &Connection) -> Result<SmartSuiteClient, Failure> {
        let api_key = self.open(connection, SecretColumn::SmartSuiteApiKey)?;
        Ok(SmartSuiteClient::builder(
            self.api.smartsuite.clone(),
            self.api.smartsuite_webhooks.clone(),
            connection.smartsuite_account_id.clone(),
            api_key,
        )
        .rate_limit_pause(self.options.smartsuite_rate_limit_pause)
        .build()?)
    }

    pub fn clients(&self, connection: &Connection) -> Result<Clients, Failure> {
        Ok(Clients {
            webflow: self.webflow(connection)?,
            smartsuite: self.smartsuite(connection)?,
        })
    }

    /// Reads both schemas now. With a `budget`, the Webflow read is paid from it (the
    /// worker's); without, it is a one-off read (a person's command).
    pub async fn schemas(
        &self,
        connection: &Connection,
        clients: &Clients,
        budget: Option<&WebflowBudget<'_>>,
    ) -> Result<Schemas, Failure> {
        let table = clients
            .smartsuite
            .get_table(&connection.smartsuite_table_id)
            .await?;
        let read = clients
            .webflow
            .get_collection(&connection.webflow_collection_id);
        let collection = match budget {
            Some(budget) => budget.call(read).await?,
            None => read.await?.into_value(),
        };
        Ok(Schemas {
            table: table_schema(&table)?,
            collection: collection_schema(&collection)?,
        })
    }
}

/// Validates `doc` against the schemas: the compiled mapping, or a permanent failure that
/// lists every problem.
pub fn compile(doc: &MappingDocument, schemas: &Schemas) -> Result<CompiledMapping, Failure> {
    suiteflow_mapper::validate(doc, &schemas.table, &schemas.collection).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        Failure::permanent(format!(
            "the mapping no longer fits the schemas: {}",
            list.join("; ")
        ))
    })
}

/// SmartSuite's table structure as the mapper sees it.
pub fn table_schema(table: &suiteflow_smartsuite_client::Table) -> Result<Table, Failure> {
    convert(table, "SmartSuite table structure")
}

/// Webflow's collection schema as the mapper sees it.
pub fn collection_schema(
    collection: &suiteflow_webflow_client::Collection,
) -> Result<Collection, Failure> {
    convert(collection, "Webflow collection schema")
}

/// The clients' schema types and the mapper's are both faithful views of the same JSON.
fn convert<A: Serialize, B: DeserializeOwned>(value: &A, what: &str) -> Result<B, Failure> {
    serde_json::to_value(value)
        .and_then(serde_json::from_value)
        .map_err(|e| Failure::permanent(format!("unexpected {what}: {e}")))
}
