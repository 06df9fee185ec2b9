//! A running ingress over a test database, and helpers to create connections and count rows.

use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use ingress::{Application, Settings};
use ring::digest::{SHA256, digest};
use suiteflow_crypto::Keyring;
use suiteflow_settings::{Reader, Source};
use suiteflow_store::{
    ConnectionChanges, ConnectionId, ConnectionStatus, NewConnection, Sealed, SecretColumn,
    WebhookScheme,
};
use suiteflow_test_support::TestDb;

pub const KEY: &str = "4f1c8e2a9b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e";
pub const HMAC_SECRET: &str = "test-hmac-secret-8c1f2e";
pub const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

pub struct TestApp {
    pub db: TestDb,
    pub base: String,
    pub http: reqwest::Client,
    pub keys: Keyring,
    handle: actix_web::dev::ServerHandle,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    pub async fn spawn_with(extra_env: &[(&str, &str)]) -> Self {
        let db = TestDb::new().await;
        let mut env = vec![
            ("DATABASE_URL".to_string(), db.url().to_string()),
            ("DATA_ENCRYPTION_KEY".to_string(), KEY.to_string()),
            ("INGRESS_ADDR".to_string(), "127.0.0.1:0".to_string()),
        ];
        env.extend(
            extra_env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let source = Source::new(None, env).unwrap();
        let mut reader = Reader::new(&source);
        let settings = Settings::read(&mut reader);
        let settings = reader.finish(|| settings).unwrap();
        let keys = settings.keys.clone();
        let app = Application::build(settings).unwrap();
        let base = format!("http://{}", app.addr());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        Self {
            db,
            base,
            http: client(),
            keys,
            handle,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn db(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(self.db.url()).await.unwrap()
    }

    /// Creates a connection with the given scheme, webhook secret and status.
    pub async fn connection(
        &self,
        scheme: WebhookScheme,
        secret: &str,
        status: ConnectionStatus,
    ) -> ConnectionId {
        let id = ConnectionId(uuid::Uuid::new_v4());
        let seal = |column: SecretColumn, value: &str| {
            let e = self
                .keys
                .encrypt_secret(value.as_bytes(), &column.aad(id))
                .unwrap();
            Sealed {
                ciphertext: e.ciphertext_b64,
                iv: e.iv_b64,
            }
        };
        let new = NewConnection {
            id,
            name: "test".into(),
            status,
            smartsuite_account_id: "sv25cxf2".into(),
            smartsuite_table_id: "tbl".into(),
            smartsuite_solution_id: None,
            smartsuite_api_key: seal(SecretColumn::SmartSuiteApiKey, "ss-key"),
            webflow_site_id: "site".into(),
            webflow_collection_id: "coll".into(),
            webflow_token: seal(SecretColumn::WebflowToken, "wf-token"),
            webhook_scheme: scheme,
            webhook_secret: seal(SecretColumn::WebhookSecret, secret),
            encryption_key_id: self.keys.current_key_id().to_string(),
            rate_limit_per_min: 50,
            max_retries: 5,
            retry_backoff_ms: 1000,
        };
        suiteflow_store::create_connection(&mut self.db().await, &new)
            .await
            .unwrap();
        id
    }

    pub async fn hmac_connection(&self) -> ConnectionId {
        self.connection(WebhookScheme::Hmac, HMAC_SECRET, ConnectionStatus::Active)
            .await
    }

    /// Registers a SmartSuite webhook id and URL token on a connection.
    pub async fn register_smartsuite(&self, id: ConnectionId, webhook_id: &str, token: &str) {
        let changes = ConnectionChanges {
            smartsuite_webhook_id: Some(Some(webhook_id.into())),
            smartsuite_webhook_token_hash: Some(Some(hex::encode(digest(
                &SHA256,
                token.as_bytes(),
            )))),
            ..ConnectionChanges::default()
        };
        suiteflow_store::update_connection(&mut self.db().await, id, &changes)
            .await
            .unwrap();
    }

    /// Rows in `events` (all kinds).
    pub async fn event_count(&self) -> i64 {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let count: Count = diesel::sql_query("SELECT count(*) AS n FROM events")
            .get_result(&mut self.db().await)
            .await
            .unwrap();
        count.n
    }

    /// Sends a push signed with the `hmac` scheme.
    pub async fn push_hmac(
        &self,
        id: ConnectionId,
        body: &str,
        headers: &[(&str, String)],
    ) -> reqwest::Response {
        let mut request = self
            .http
            .post(self.url(&format!("/api/hooks/{}", id.0)))
            .header("content-type", "application/json")
            .header("x-smartsuite-signature", sign(body))
            .body(body.to_string());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request.send().await.unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Waits until `check` holds, for at most `limit`.
pub async fn eventually(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// The `hmac` signature header for `body` with [`HMAC_SECRET`].
pub fn sign(body: &str) -> String {
    suiteflow_webhook_security::sign_hmac(
        &suiteflow_crypto::SecretString::new(HMAC_SECRET),
        body.as_bytes(),
    )
}

/// An HTTP client (reqwest over rustls needs the ring provider installed first).
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
