//! The CLI's settings: one value, validated once at start-up and passed down.

use suiteflow_crypto::Keyring;
use suiteflow_settings::Reader;
use suiteflow_settings::parts::{ApiBases, PublicUrl, RetryConfig};
use suiteflow_store::DatabaseConfig;
use suiteflow_telemetry::TelemetryConfig;

#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseConfig,
    pub keys: Keyring,
    pub public_url: PublicUrl,
    pub retry: RetryConfig,
    pub api: ApiBases,
    pub telemetry: TelemetryConfig,
}

impl Settings {
    pub fn read(r: &mut Reader<'_>) -> Option<Self> {
        let database = DatabaseConfig::read(r, "suiteflow-cli");
        let keys = Keyring::read(r);
        let public_url = PublicUrl::read(r);
        let retry = RetryConfig::read(r);
        let api = ApiBases::read(r);
        let telemetry = TelemetryConfig::read(r);
        Some(Self {
            database: database?,
            keys: keys?,
            public_url: public_url?,
            retry: retry?,
            api: api?,
            telemetry: telemetry?,
        })
    }
}
