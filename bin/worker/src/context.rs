//! Everything the worker needs to process one connection's events: the connection row, its
//! decrypted credentials as ready clients, and its mapping compiled against the live schemas.
//! Built once and cached until the connection row or the mapping version changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use suiteflow_crypto::{Keyring, SecretString};
use suiteflow_mapper::{CompiledMapping, MappingDocument};
use suiteflow_settings::parts::ApiBases;
use suiteflow_smartsuite_client::SmartSuiteClient;
use suiteflow_store::{Connection, ConnectionId, Mapping, Sealed, SecretColumn};
use suiteflow_webflow_client::WebflowClient;
use time::OffsetDateTime;

use crate::outcome::Failure;

/// One connection, ready to process: the row as read for this batch, and what was built from
/// its credentials and mapping (shared across batches while they do not change).
pub struct Context {
    pub connection: Connection,
    pub built: Arc<Built>,
}

impl std::ops::Deref for Context {
    type Target = Built;

    fn deref(&self) -> &Built {
        &self.built
    }
}

/// Clients and compiled mapping of a connection.
pub struct Built {
    /// What the clients and the mapping were built from (see [`fingerprint`]).
    pub fingerprint: String,
    pub webflow: WebflowClient,
    pub smartsuite: SmartSuiteClient,
    /// `None` when the connection has no mapping yet (its record events wait, see `process`).
    pub mapping: Option<CompiledMapping>,
    /// Public URLs of SmartSuite files, by handle (they live for years).
    pub file_urls: Mutex<HashMap<String, String>>,
    /// The window of the connection's write budget (see [`ClientOptions::rate_window`]).
    pub rate_window: Duration,
    /// Webflow asked us to wait (`X-RateLimit-Remaining: 0` or a 429) until then.
    pub webflow_pause: Mutex<Option<OffsetDateTime>>,
}

impl Context {
    pub fn id(&self) -> ConnectionId {
        self.connection.id
    }

    pub fn collection_id(&self) -> &str {
        &self.connection.webflow_collection_id
    }

    pub fn table_id(&self) -> &str {
        &self.connection.smartsuite_table_id
    }
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

/// Client settings the tests shorten.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub webflow_timeout: Duration,
    pub smartsuite_rate_limit_pause: Duration,
    /// The window of a connection's `rate_limit_per_min` (a minute; tests scale the clock).
    pub rate_window: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            webflow_timeout: Duration::from_secs(30),
            smartsuite_rate_limit_pause: Duration::from_secs(30),
            rate_window: Duration::from_secs(60),
        }
    }
}

/// Builds a context: decrypts the credentials, builds the clients, fetches the SmartSuite table
/// structure and the Webflow collection, and compiles the mapping against them.
pub async fn build(
    connection: &Connection,
    mapping: Option<&Mapping>,
    keys: &Keyring,
    api: &ApiBases,
    options: &ClientOptions,
) -> Result<Built, Failure> {
    let id = connection.id;
    let api_key = open(
        keys,
        id,
        SecretColumn::SmartSuiteApiKey,
        connection.smartsuite_api_key.sealed(),
    )?;
    let token = open(
        keys,
        id,
        SecretColumn::WebflowToken,
        connection.webflow_token.sealed(),
    )?;
    // No retries inside the client: every Webflow request must be paid for from the shared
    // bucket, and the worker retries whole events with backoff instead.
    let webflow = WebflowClient::builder(api.webflow.clone(), token)
        .timeout(options.webflow_timeout)
        .max_retries(0)
        .build()
        .map_err(|e| Failure::Permanent(format!("Webflow client: {e}")))?;
    let smartsuite = SmartSuiteClient::builder(
        api.smartsuite.clone(),
        api.smartsuite_webhooks.clone(),
        connection.smartsuite_account_id.clone(),
        api_key,
    )
    .rate_limit_pause(options.smartsuite_rate_limit_pause)
    .build()
    .map_err(|e| Failure::Permanent(format!("SmartSuite client: {e}")))?;

    let compiled = match mapping {
        None => None,
        Some(mapping) => Some(compile(connection, mapping, &webflow, &smartsuite).await?),
    };
    Ok(Built {
        fingerprint: fingerprint(connection, mapping),
        webflow,
        smartsuite,
        mapping: compiled,
        rate_window: options.rate_window,
        file_urls: Mutex::new(HashMap::new()),
        webflow_pause: Mutex::new(None),
    })
}

fn open(
    keys: &Keyring,
    id: ConnectionId,
    column: SecretColumn,
    sealed: Sealed,
) -> Result<SecretString, Failure> {
    column.open(keys, id, &sealed).map_err(|_| {
        Failure::Permanent(format!(
            "the connection's {} does not open with the configured DATA_ENCRYPTION_KEY",
            column.name()
        ))
    })
}

/// The stored mapping as the document a person wrote.
pub fn document(mapping: &Mapping) -> Result<MappingDocument, Failure> {
    let text = json!({
        "fieldMap": mapping.field_map,
        "slugTemplate": mapping.slug_template,
        "statusBehavior": mapping.status_behavior,
        "deleteBehavior": mapping.delete_behavior.as_str(),
        "requiredFields": mapping.required_fields,
    });
    let cleaned: serde_json::Map<String, Value> = text
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    MappingDocument::from_json(&Value::Object(cleaned).to_string())
        .map_err(|e| Failure::Permanent(format!("the stored mapping does not parse: {e}")))
}

async fn compile(
    connection: &Connection,
    mapping: &Mapping,
    webflow: &WebflowClient,
    smartsuite: &SmartSuiteClient,
) -> Result<CompiledMapping, Failure> {
    let doc = document(mapping)?;
    let table = smartsuite
        .get_table(&connection.smartsuite_table_id)
        .await
        .map_err(Failure::from_smartsuite)?;
    let collection = webflow
        .get_collection(&connection.webflow_collection_id)
        .await
        .map_err(Failure::from_webflow)?
        .value;
    let table = convert(&table, "SmartSuite table")?;
    let collection = convert(&collection, "Webflow collection")?;
    suiteflow_mapper::validate(&doc, &table, &collection).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        Failure::Permanent(format!(
            "the mapping no longer fits the schemas: {}",
            list.join("; ")
        ))
    })
}

/// The clients' schema types and the mapper's are both faithful views of the same JSON.
fn convert<A: serde::Serialize, B: serde::de::DeserializeOwned>(
    value: &A,
    what: &str,
) -> Result<B, Failure> {
    serde_json::to_value(value)
        .and_then(serde_json::from_value)
        .map_err(|e| Failure::Permanent(format!("unexpected {what} shape: {e}")))
}

/// What was built per connection, reused while its fingerprint holds.
#[derive(Default)]
pub struct Cache {
    inner: Mutex<HashMap<ConnectionId, Arc<Built>>>,
}

impl Cache {
    pub fn get(&self, id: ConnectionId, fingerprint: &str) -> Option<Arc<Built>> {
        let map = self.inner.lock().ok()?;
        map.get(&id)
            .filter(|b| b.fingerprint == fingerprint)
            .cloned()
    }

    pub fn put(&self, id: ConnectionId, built: Arc<Built>) {
        if let Ok(mut map) = self.inner.lock() {
            map.insert(id, built);
        }
    }
}
