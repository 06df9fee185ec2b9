//! From a stored connection to what talks to its two ends: the credentials opened with the
//! data key, the clients built, the SmartSuite table structure and the Webflow collection
//! schema read and turned into the mapper's view, and the mapping compiled against them. The
//! worker and the CLI both build through [`Connector`].

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use suiteflow_crypto::{Keyring, SecretString};
use suiteflow_mapper::schema::{smartsuite::Table, webflow::Collection};
use suiteflow_mapper::{CompiledMapping, MappingDocument};
use suiteflow_settings::parts::ApiBases;
use suiteflow_smartsuite_client::SmartSuiteClient;
use suiteflow_store::{Connection, SecretColumn, Store};
use suiteflow_webflow_client::WebflowClient;

use crate::Failure;
use crate::budget::{PERSON_WAIT, SmartSuiteBudget, WebflowBudget};

/// How the clients are built. The defaults are the worker's; tests shorten them.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub webflow_timeout: Duration,
    /// How often the Webflow client repeats a failed idempotent request on its own. 0 by
    /// default: every request is paid for from the token's shared budget, so a repeat the
    /// client made on its own would be an unpaid request (the worker retries whole events
    /// with backoff instead; a person runs the command again).
    pub webflow_retries: u32,
    /// How often the SmartSuite client repeats a failed read on its own (0 by default: every
    /// call is paid from the key's budget and counted in its month).
    pub smartsuite_retries: u32,
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
            smartsuite_retries: 0,
            smartsuite_rate_limit_pause: Duration::from_secs(30),
            rate_window: Duration::from_secs(60),
        }
    }
}

/// Both clients of a connection, and the fingerprints of their credentials (the names of the
/// credentials' shared budgets).
pub struct Clients {
    pub webflow: WebflowClient,
    pub smartsuite: SmartSuiteClient,
    pub webflow_fingerprint: String,
    pub smartsuite_fingerprint: String,
    /// What `DATA_ENCRYPTION_KEY_PREVIOUS` made of them, during a key rotation: the names
    /// their budgets had before.
    pub previous_fingerprints: [Option<String>; 2],
}

/// A connection's clients and their budgets, for a command a person runs (a check, a preview,
/// a backfill): every call is paid from the credentials' shared budgets like the worker's,
/// waiting up to [`PERSON_WAIT`] for a permit instead of a batch's few seconds.
pub struct Session<'a> {
    pub connection: &'a Connection,
    pub clients: Clients,
    pub webflow: WebflowBudget<'a>,
    pub smartsuite: SmartSuiteBudget<'a>,
}

impl Session<'_> {
    /// Reads both schemas now.
    pub async fn schemas(&self) -> Result<Schemas, Failure> {
        read_schemas(
            self.connection,
            &self.clients,
            &self.webflow,
            &self.smartsuite,
        )
        .await
    }
}

/// A credential's fingerprint, and what the previous data key made of it.
type Fingerprints = (String, Option<String>);

/// Both schemas of a connection, as the mapper sees them.
pub struct Schemas {
    pub table: Table,
    pub collection: Collection,
    /// A hash of both as SmartSuite and Webflow described them: equal hashes, same schemas.
    pub hash: String,
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

    /// The SmartSuite plan's calls per month, when the operator gave it.
    pub fn monthly_quota(&self) -> Option<u64> {
        self.api.smartsuite_monthly_quota
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
        Ok(self.webflow_with_fingerprint(connection)?.0)
    }

    fn webflow_with_fingerprint(
        &self,
        connection: &Connection,
    ) -> Result<(WebflowClient, Fingerprints), Failure> {
        let token = self.open(connection, SecretColumn::WebflowToken)?;
        let fingerprint = self.fingerprints(&token);
        let client = WebflowClient::builder(self.api.webflow.clone(), token)
            .timeout(self.options.webflow_timeout)
            .max_retries(self.options.webflow_retries)
            .build()?;
        Ok((client, fingerprint))
    }

    /// The connection's SmartSuite client (no request is made).
    pub fn smartsuite(&self, connection: &Connection) -> Result<SmartSuiteClient, Failure> {
        Ok(self.smartsuite_with_fingerprint(connection)?.0)
    }

    fn smartsuite_with_fingerprint(
        &self,
        connection: &Connection,
    ) -> Result<(SmartSuiteClient, Fingerprints), Failure> {
        let api_key = self.open(connection, SecretColumn::SmartSuiteApiKey)?;
        let fingerprint = self.fingerprints(&api_key);
        let client = SmartSuiteClient::builder(
            self.api.smartsuite.clone(),
            self.api.smartsuite_webhooks.clone(),
            connection.smartsuite_account_id.clone(),
            api_key,
        )
        .rate_limit_pause(self.options.smartsuite_rate_limit_pause)
        .max_retries(self.options.smartsuite_retries)
        .build()?;
        Ok((client, fingerprint))
    }

    /// A credential's fingerprint under the current data key, and under the previous one.
    fn fingerprints(&self, secret: &SecretString) -> Fingerprints {
        (
            self.keys.fingerprint(secret.expose()),
            self.keys.previous_fingerprint(secret.expose()),
        )
    }

    /// Both clients, with the fingerprints of their credentials.
    pub fn clients(&self, connection: &Connection) -> Result<Clients, Failure> {
        let (webflow, (webflow_fingerprint, webflow_previous)) =
            self.webflow_with_fingerprint(connection)?;
        let (smartsuite, (smartsuite_fingerprint, smartsuite_previous)) =
            self.smartsuite_with_fingerprint(connection)?;
        Ok(Clients {
            webflow,
            smartsuite,
            webflow_fingerprint,
            smartsuite_fingerprint,
            previous_fingerprints: [webflow_previous, smartsuite_previous],
        })
    }

    /// The Webflow budget of a connection's token (and its cap), for one batch.
    pub fn webflow_budget<'a>(
        &self,
        store: &'a Store,
        connection: &'a Connection,
        fingerprint: &str,
    ) -> WebflowBudget<'a> {
        WebflowBudget::new(store, connection, fingerprint, self.options.rate_window)
    }

    /// The budget of a SmartSuite API key (and its month's count).
    pub fn smartsuite_budget<'a>(
        &self,
        store: &'a Store,
        fingerprint: &str,
    ) -> SmartSuiteBudget<'a> {
        SmartSuiteBudget::new(
            store,
            fingerprint,
            self.options.smartsuite_rate_limit_pause,
            self.api.smartsuite_monthly_quota,
        )
    }

    /// The connection's clients with their budgets, for a command a person runs.
    pub fn session<'a>(
        &self,
        store: &'a Store,
        connection: &'a Connection,
    ) -> Result<Session<'a>, Failure> {
        let clients = self.clients(connection)?;
        let webflow = self
            .webflow_budget(store, connection, &clients.webflow_fingerprint)
            .with_max_wait(PERSON_WAIT);
        let smartsuite = self
            .smartsuite_budget(store, &clients.smartsuite_fingerprint)
            .with_max_wait(PERSON_WAIT);
        Ok(Session {
            connection,
            clients,
            webflow,
            smartsuite,
        })
    }
}

/// Reads both schemas now, each call paid from its budget.
pub async fn read_schemas(
    connection: &Connection,
    clients: &Clients,
    webflow: &WebflowBudget<'_>,
    smartsuite: &SmartSuiteBudget<'_>,
) -> Result<Schemas, Failure> {
    let table = smartsuite
        .call(
            "table",
            clients
                .smartsuite
                .get_table(&connection.smartsuite_table_id),
        )
        .await?;
    let collection = webflow
        .call(
            clients
                .webflow
                .get_collection(&connection.webflow_collection_id),
        )
        .await?;
    let mut both = serde_json::Map::new();
    for (key, value) in [
        ("table", serde_json::to_value(&table)),
        ("collection", serde_json::to_value(&collection)),
    ] {
        both.insert(key.into(), value.unwrap_or_default());
    }
    Ok(Schemas {
        table: table_schema(&table)?,
        collection: collection_schema(&collection)?,
        hash: suiteflow_mapper::content_hash(&both),
    })
}

/// Validates `doc` against the schemas: the compiled mapping, or a [`Failure::mismatch`] that
/// lists every problem (each names its field).
pub fn compile(doc: &MappingDocument, schemas: &Schemas) -> Result<CompiledMapping, Failure> {
    suiteflow_mapper::validate(doc, &schemas.table, &schemas.collection).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        Failure::mismatch(format!(
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
