//! A running ingress over a test database, and helpers to create connections and count rows.

use std::time::Duration;

use ingress::{Application, Settings};
use suiteflow_crypto::Keyring;
use suiteflow_settings::{Reader, Source};
use suiteflow_store::{ConnectionChanges, ConnectionId, ConnectionStatus, WebhookScheme};
use suiteflow_test_support::TestDb;
use suiteflow_test_support::fixtures::{ConnectionSpec, create_connection};

pub const KEY: &str = suiteflow_test_support::fixtures::TEST_KEY;
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

    pub async fn db(&self) -> suiteflow_store::AsyncPgConnection {
        self.db.connect().await
    }

    /// Creates a connection with the given scheme, webhook secret and status.
    pub async fn connection(
        &self,
        scheme: WebhookScheme,
        secret: &str,
        status: ConnectionStatus,
    ) -> ConnectionId {
        let spec = ConnectionSpec {
            scheme,
            webhook_secret: secret.to_string(),
            status,
            ..ConnectionSpec::default()
        };
        create_connection(self.db.url(), &self.keys, &spec).await
    }

    pub async fn hmac_connection(&self) -> ConnectionId {
        self.connection(WebhookScheme::Hmac, HMAC_SECRET, ConnectionStatus::Active)
            .await
    }

    /// Registers a SmartSuite webhook id and URL token on a connection.
    pub async fn register_smartsuite(&self, id: ConnectionId, webhook_id: &str, token: &str) {
        let changes = ConnectionChanges {
            smartsuite_webhook_id: Some(Some(webhook_id.into())),
            smartsuite_webhook_token_hash: Some(Some(suiteflow_webhook_security::url_token_hash(
                token,
            ))),
            ..ConnectionChanges::default()
        };
        suiteflow_store::update_connection(&mut self.db().await, id, &changes)
            .await
            .unwrap();
    }

    /// The Prometheus text of `GET /metrics`.
    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Rows in `events` (all kinds).
    pub async fn event_count(&self) -> i64 {
        suiteflow_test_support::rows::event_count(&mut self.db().await).await
    }

    /// Sends a push signed with the `hmac` scheme.
    pub async fn push_hmac(
        &self,
        id: ConnectionId,
        body: &str,
        headers: &[(&str, String)],
    ) -> reqwest::Response {
        let headers: Vec<(&str, &[u8])> = headers
            .iter()
            .map(|(name, value)| (*name, value.as_bytes()))
            .collect();
        self.push_raw(id, body.as_bytes(), &headers).await
    }

    /// Sends raw bytes, `hmac`-signed over exactly those bytes, with raw header values (which
    /// need not be UTF-8).
    pub async fn push_raw(
        &self,
        id: ConnectionId,
        body: &[u8],
        headers: &[(&str, &[u8])],
    ) -> reqwest::Response {
        let mut request = self
            .http
            .post(self.url(&format!("/api/hooks/{}", id.0)))
            .header("content-type", "application/json")
            .header("x-smartsuite-signature", sign(body))
            .body(body.to_vec());
        for (name, value) in headers {
            let value = reqwest::header::HeaderValue::from_bytes(value).unwrap();
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
    suiteflow_test_support::eventually(limit, async || check().await.then_some(()))
        .await
        .is_some()
}

/// The `hmac` signature header for `body` with [`HMAC_SECRET`].
pub fn sign(body: impl AsRef<[u8]>) -> String {
    suiteflow_webhook_security::sign_hmac(
        &suiteflow_crypto::SecretString::new(HMAC_SECRET),
        body.as_ref(),
    )
}

/// An HTTP client (reqwest over rustls needs the ring provider installed first).
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
