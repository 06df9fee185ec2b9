//! Rows the tests need: a connection with sealed secrets, a mapping.

use diesel_async::{AsyncConnection, AsyncPgConnection};
use suiteflow_crypto::Keyring;
use suiteflow_store::{ConnectionId, ConnectionStatus, NewConnection, SecretColumn, WebhookScheme};

/// A throw-away data key for tests.
pub const TEST_KEY: &str = "4f1c8e2a9b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e";

/// The keyring of [`TEST_KEY`].
pub fn test_keys() -> Keyring {
    Keyring::new(
        suiteflow_crypto::EncryptionKey::from_hex(TEST_KEY).unwrap(),
        None,
    )
}

/// The settings that point a process at this database and at the stand-ins, sealed with
/// [`TEST_KEY`]: `DATABASE_URL`, `DATA_ENCRYPTION_KEY`, `WEBFLOW_API_BASE`,
/// `SMARTSUITE_API_BASE` and `SMARTSUITE_WEBHOOKS_API_BASE`. Callers add their own.
pub fn stand_in_settings(
    db_url: &str,
    wf: &crate::webflow::WebflowStandIn,
    ss: &crate::smartsuite::SmartSuiteStandIn,
) -> Vec<(String, String)> {
    [
        ("DATABASE_URL", db_url.to_string()),
        ("DATA_ENCRYPTION_KEY", TEST_KEY.to_string()),
        ("WEBFLOW_API_BASE", wf.base_url().to_string()),
        ("SMARTSUITE_API_BASE", ss.api_base().to_string()),
        (
            "SMARTSUITE_WEBHOOKS_API_BASE",
            ss.webhooks_base().to_string(),
        ),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_string(), value))
    .collect()
}

/// What a test connection is made of.
#[derive(Debug, Clone)]
pub struct ConnectionSpec {
    pub scheme: WebhookScheme,
    pub webhook_secret: String,
    pub status: ConnectionStatus,
    pub smartsuite_account_id: String,
    pub smartsuite_table_id: String,
    pub smartsuite_api_key: String,
    pub webflow_site_id: String,
    pub webflow_collection_id: String,
    pub webflow_token: String,
    pub rate_limit_per_min: i32,
    pub max_retries: i32,
    pub retry_backoff_ms: i32,
    pub sync_delay_ms: i32,
}

impl Default for ConnectionSpec {
    fn default() -> Self {
        Self {
            scheme: WebhookScheme::Hmac,
            webhook_secret: "test-hmac-secret-8c1f2e".into(),
            status: ConnectionStatus::Active,
            smartsuite_account_id: "sv25cxf2".into(),
            smartsuite_table_id: "tbl".into(),
            smartsuite_api_key: "ss-key".into(),
            webflow_site_id: "site".into(),
            webflow_collection_id: "coll".into(),
            webflow_token: "wf-token".into(),
            rate_limit_per_min: 50,
            max_retries: 5,
            retry_backoff_ms: 1000,
            sync_delay_ms: 0,
        }
    }
}

/// Creates a connection as `suiteflow connection create` would: secrets sealed with `keys`,
/// each bound to its column of this connection.
pub async fn create_connection(
    db_url: &str,
    keys: &Keyring,
    spec: &ConnectionSpec,
) -> ConnectionId {
    let id = ConnectionId(uuid::Uuid::new_v4());
    let seal = |column: SecretColumn, value: &str| column.seal(keys, id, value).unwrap();
    let new = NewConnection {
        id,
        name: "test".into(),
        status: spec.status,
        smartsuite_account_id: spec.smartsuite_account_id.clone(),
        smartsuite_table_id: spec.smartsuite_table_id.clone(),
        smartsuite_solution_id: None,
        smartsuite_api_key: seal(SecretColumn::SmartSuiteApiKey, &spec.smartsuite_api_key),
        webflow_site_id: spec.webflow_site_id.clone(),
        webflow_collection_id: spec.webflow_collection_id.clone(),
        webflow_token: seal(SecretColumn::WebflowToken, &spec.webflow_token),
        webhook_scheme: spec.scheme,
        webhook_secret: seal(SecretColumn::WebhookSecret, &spec.webhook_secret),
        encryption_key_id: keys.current_key_id().to_string(),
        rate_limit_per_min: spec.rate_limit_per_min,
        max_retries: spec.max_retries,
        retry_backoff_ms: spec.retry_backoff_ms,
        sync_delay_ms: spec.sync_delay_ms,
    };
    let mut conn = AsyncPgConnection::establish(db_url).await.unwrap();
    suiteflow_store::create_connection(&mut conn, &new)
        .await
        .unwrap();
    id
}

/// Stores a mapping document (its JSON) for a connection, as `suiteflow mapping set` does.
pub async fn set_mapping(db_url: &str, id: ConnectionId, document: serde_json::Value) {
    let doc = suiteflow_mapper::MappingDocument::from_json(&document.to_string())
        .unwrap_or_else(|e| panic!("a test mapping that does not parse: {e}"));
    let mut conn = AsyncPgConnection::establish(db_url).await.unwrap();
    let previous = suiteflow_store::get_mapping(&mut conn, id).await.unwrap();
    let new = suiteflow_sync::mapping::new_mapping(&doc, previous.as_ref())
        .unwrap_or_else(|e| panic!("a test mapping that cannot be stored: {e}"));
    suiteflow_store::set_mapping(&mut conn, id, &new)
        .await
        .unwrap();
}

/// The products schema the tests, the demo and the load tools share, added to the stand-ins:
/// a SmartSuite table `Products` (`title`, `price`, `status`, `category`) in a solution `Shop`,
/// and a Webflow collection `Products` (`name`, `slug`, `price`, `category` as an Option, and
/// `smartsuite-id`, plain text, for matching items by the record id they hold).
#[derive(Debug, Clone)]
pub struct Products {
    pub collection: String,
    pub solution: String,
    pub table: String,
}

impl Products {
    /// The status choices of the table (label, value).
    pub const STATUSES: [(&'static str, &'static str); 3] =
        [("Draft", "draft"), ("Live", "live"), ("Backlog", "backlog")];
    /// The category choices of the table (label, value); the collection has the same labels.
    pub const CATEGORIES: [(&'static str, &'static str); 2] = [("Chairs", "c1"), ("Tables", "c2")];

    /// Adds the table and the collection.
    pub fn add(
        wf: &crate::webflow::WebflowStandIn,
        ss: &crate::smartsuite::SmartSuiteStandIn,
    ) -> Self {
        use crate::webflow::{CollectionSpec, FieldSpec};
        let choices = |pairs: &[(&str, &str)]| -> serde_json::Value {
            pairs
                .iter()
                .map(|(label, value)| serde_json::json!({"label": label, "value": value}))
                .collect()
        };
        let categories: Vec<&str> = Self::CATEGORIES.iter().map(|(label, _)| *label).collect();
        let collection = wf.add_collection(
            CollectionSpec::new("Products")
                .field(FieldSpec::new("price", "Number"))
                .field(FieldSpec::option("category", &categories))
                .field(FieldSpec::new("smartsuite-id", "PlainText")),
        );
        let solution = ss.add_solution("Shop");
        let table = ss.add_table(
            &solution,
            "Products",
            vec![
                serde_json::json!({"slug": "price", "label": "Price", "field_type": "numberfield", "params": {}}),
                serde_json::json!({"slug": "status", "label": "Status", "field_type": "statusfield",
                                   "params": {"choices": choices(&Self::STATUSES)}}),
                serde_json::json!({"slug": "category", "label": "Category", "field_type": "singleselectfield",
                                   "params": {"choices": choices(&Self::CATEGORIES)}}),
            ],
        );
        Self {
            collection,
            solution,
            table,
        }
    }

    /// `spec` joined to the stand-ins: their accounts, keys, this table and this collection.
    pub fn spec(
        &self,
        wf: &crate::webflow::WebflowStandIn,
        ss: &crate::smartsuite::SmartSuiteStandIn,
        spec: ConnectionSpec,
    ) -> ConnectionSpec {
        ConnectionSpec {
            smartsuite_account_id: ss.account_id(),
            smartsuite_table_id: self.table.clone(),
            smartsuite_api_key: ss.api_key(),
            webflow_site_id: wf.site_id(),
            webflow_collection_id: self.collection.clone(),
            webflow_token: wf.token(),
            ..spec
        }
    }

    /// The plain mapping: `name` from `title`, `price` from `price`, the slug from the title.
    pub fn mapping() -> serde_json::Value {
        serde_json::json!({
            "fieldMap": {
                "name": {"type": "direct", "source": "title"},
                "price": {"type": "direct", "source": "price"}
            },
            "slugTemplate": "{{title}}"
        })
    }

    /// Creates the connection of [`Products::spec`] (sealed with [`test_keys`]) with `mapping`.
    pub async fn connect(
        &self,
        db_url: &str,
        wf: &crate::webflow::WebflowStandIn,
        ss: &crate::smartsuite::SmartSuiteStandIn,
        spec: ConnectionSpec,
        mapping: serde_json::Value,
    ) -> ConnectionId {
        let id = create_connection(db_url, &test_keys(), &self.spec(wf, ss, spec)).await;
        set_mapping(db_url, id, mapping).await;
        id
    }
}

/// A test database and both stand-ins holding the [`Products`] schema, with one connection
/// between them: what the worker tests, the demo, `bench-sync` and `chaos` start from.
pub struct ProductsWorld {
    pub db: crate::TestDb,
    pub wf: crate::webflow::WebflowStandIn,
    pub ss: crate::smartsuite::SmartSuiteStandIn,
    pub products: Products,
    pub connection: ConnectionId,
}

impl ProductsWorld {
    /// A Webflow stand-in configured by `webflow`, a default SmartSuite stand-in, and the
    /// connection of `spec` (joined to them by [`Products::spec`]) with `mapping`.
    pub async fn start(
        webflow: crate::webflow::WebflowConfig,
        spec: ConnectionSpec,
        mapping: serde_json::Value,
    ) -> Self {
        let db = crate::TestDb::new().await;
        let wf = crate::webflow::WebflowStandIn::start_with(webflow)
            .await
            .unwrap_or_else(|e| panic!("Webflow stand-in: {e}"));
        let ss = crate::smartsuite::SmartSuiteStandIn::start()
            .await
            .unwrap_or_else(|e| panic!("SmartSuite stand-in: {e}"));
        let products = Products::add(&wf, &ss);
        let connection = products.connect(db.url(), &wf, &ss, spec, mapping).await;
        Self {
            db,
            wf,
            ss,
            products,
            connection,
        }
    }
}
