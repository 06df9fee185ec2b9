use std::time::Duration;

use suiteflow_crypto::SecretString;
use suiteflow_store::{
    AsyncPgConnection, ConnectionId, ConnectionStatus, DatabaseConfig, NewConnection, Sealed,
    Store, WebhookScheme, create_connection,
};
use suiteflow_test_support::TestDb;

pub fn config(db: &TestDb, pool_size: usize) -> DatabaseConfig {
    DatabaseConfig {
        url: SecretString::new(db.url()),
        pool_size,
        statement_timeout: Duration::from_secs(20),
        application_name: "store-it".into(),
    }
}

pub async fn store(db: &TestDb, pool_size: usize) -> Store {
    Store::connect(&config(db, pool_size)).await.unwrap()
}

pub fn sealed(tag: &str) -> Sealed {
    Sealed {
        ciphertext: format!("ct-{tag}"),
        iv: format!("iv-{tag}"),
    }
}

pub fn new_connection(name: &str) -> NewConnection {
    NewConnection {
        id: ConnectionId::new_random(),
        name: name.into(),
        status: ConnectionStatus::Active,
        smartsuite_account_id: "acc".into(),
        smartsuite_table_id: "tbl".into(),
        smartsuite_solution_id: Some("sol".into()),
        smartsuite_api_key: sealed("ss"),
        webflow_site_id: "site".into(),
        webflow_collection_id: "coll".into(),
        webflow_token: sealed("wf"),
        webhook_scheme: WebhookScheme::Hmac,
        webhook_secret: sealed("wh"),
        encryption_key_id: "k1".into(),
        rate_limit_per_min: 50,
        max_retries: 5,
        retry_backoff_ms: 1000,
        sync_delay_ms: 0,
    }
}

/// Creates an active connection and returns its id.
pub async fn connection(conn: &mut AsyncPgConnection) -> ConnectionId {
    create_connection(conn, &new_connection("test"))
        .await
        .unwrap()
        .id
}
