//! The console's settings: one value, validated once at start-up. Unlike the other processes,
//! the console needs `DASHBOARD_PASSWORD_HASH`: without it, it refuses to start.

use std::net::SocketAddr;

use suiteflow_crypto::{DASHBOARD_PASSWORD_HASH, Keyring, PasswordHash};
use suiteflow_settings::parts::{ApiBases, PublicUrl};
use suiteflow_settings::{Reader, socket_addr};
use suiteflow_store::DatabaseConfig;
use suiteflow_telemetry::TelemetryConfig;

/// `CONSOLE_ADDR`'s default.
pub const DEFAULT_ADDR: ([u8; 4], u16) = ([0, 0, 0, 0], 8081);

#[derive(Debug, Clone)]
pub struct ConsoleSettings {
    pub database: DatabaseConfig,
    pub keys: Keyring,
    pub api: ApiBases,
    /// `APP_URL`: webhook URLs shown and registered; `https` makes the session cookie
    /// `Secure`.
    pub public_url: PublicUrl,
    /// `CONSOLE_ADDR`: where the console listens.
    pub addr: SocketAddr,
    /// `DASHBOARD_PASSWORD_HASH`: the operators' password (bcrypt).
    pub password: PasswordHash,
    pub telemetry: TelemetryConfig,
}

impl ConsoleSettings {
    pub fn read(r: &mut Reader<'_>) -> Option<Self> {
        let database = DatabaseConfig::read(r, "suiteflow-console");
        let keys = Keyring::read(r);
        let api = ApiBases::read(r);
        let public_url = PublicUrl::read(r);
        let addr = r.with_default("CONSOLE_ADDR", SocketAddr::from(DEFAULT_ADDR), socket_addr);
        let password = r.required(DASHBOARD_PASSWORD_HASH, |raw| {
            PasswordHash::parse(raw).map_err(|e| e.to_string())
        });
        let telemetry = TelemetryConfig::read(r);
        Some(Self {
            database: database?,
            keys: keys?,
            api: api?,
            public_url: public_url?,
            addr: addr?,
            password: password?,
            telemetry: telemetry?,
        })
    }

    /// Whether the console is reached over https (its cookie is then `Secure`).
    pub fn is_https(&self) -> bool {
        self.public_url.is_https()
    }
}
