//! The ingress's settings: one value, validated once at start-up and passed down.

use std::net::SocketAddr;

use suiteflow_crypto::Keyring;
use suiteflow_settings::parts::PublicUrl;
use suiteflow_settings::{Reader, integer_in, socket_addr};
use suiteflow_store::DatabaseConfig;
use suiteflow_telemetry::TelemetryConfig;
use suiteflow_webhook_security::WebhookConfig;

#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseConfig,
    pub keys: Keyring,
    pub webhook: WebhookConfig,
    pub public_url: PublicUrl,
    pub http: HttpConfig,
    pub telemetry: TelemetryConfig,
}

/// `INGRESS_ADDR` and `MAX_BODY_BYTES`.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub addr: SocketAddr,
    pub max_body_bytes: usize,
}

impl Settings {
    pub fn read(r: &mut Reader<'_>) -> Option<Self> {
        let database = DatabaseConfig::read(r, "suiteflow-ingress");
        let keys = Keyring::read(r);
        let webhook = WebhookConfig::read(r);
        let public_url = PublicUrl::read(r);
        let http = HttpConfig::read(r);
        let telemetry = TelemetryConfig::read(r);
        Some(Self {
            database: database?,
            keys: keys?,
            webhook: webhook?,
            public_url: public_url?,
            http: http?,
            telemetry: telemetry?,
        })
    }
}

impl HttpConfig {
    pub fn read(r: &mut Reader<'_>) -> Option<Self> {
        let default_addr = SocketAddr::from(([0, 0, 0, 0], 8080));
        let addr = r.with_default("INGRESS_ADDR", default_addr, socket_addr);
        let max_body = r.with_default("MAX_BODY_BYTES", 1_048_576, integer_in(1024..=104_857_600));
        Some(Self {
            addr: addr?,
            max_body_bytes: usize::try_from(max_body?).ok()?,
        })
    }
}
