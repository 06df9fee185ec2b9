//! The worker's settings: one value, validated once at start-up and passed down.

use std::net::SocketAddr;
use std::time::Duration;

use suiteflow_crypto::Keyring;
use suiteflow_settings::parts::{ApiBases, PublicUrl, RetryConfig};
use suiteflow_settings::{Reader, integer_in, socket_addr};
use suiteflow_store::DatabaseConfig;
use suiteflow_telemetry::TelemetryConfig;

#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseConfig,
    pub keys: Keyring,
    pub retry: RetryConfig,
    pub api: ApiBases,
    /// `APP_URL`: where SmartSuite's notifications reach the ingress (a webhook registered
    /// again by maintenance points there).
    pub public_url: PublicUrl,
    pub worker: WorkerConfig,
    pub telemetry: TelemetryConfig,
}

/// How the worker claims and processes events.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// `WORKER_BATCH_SIZE`: events claimed per claim.
    pub batch_size: u32,
    /// `WORKER_CONCURRENCY`: events in flight at once (a bulk call carries at most this many).
    pub concurrency: u32,
    /// `LOCK_TIMEOUT_MS`: lease of a claimed event.
    pub lease: Duration,
    /// `WORKER_METRICS_ADDR`: where `/metrics` and `/healthz` are served.
    pub metrics_addr: SocketAddr,
    /// `EVENT_RETENTION_DAYS`: how long finished events are kept.
    pub retention_days: u32,
    /// `AUDIT_RETENTION_DAYS`: how long audit log entries (operator actions) are kept.
    pub audit_retention_days: u32,
    /// `WEBHOOK_CHECK_INTERVAL_SECS`: how often each connection's SmartSuite webhook is checked
    /// (and repaired) by maintenance.
    pub webhook_check_interval: Duration,
    /// `SCHEMA_TTL_SECS`: how long a connection's SmartSuite table structure and Webflow
    /// collection schema are trusted before they are read again.
    pub schema_ttl: Duration,
}

impl Settings {
    pub fn read(r: &mut Reader<'_>) -> Option<Self> {
        let database = DatabaseConfig::read(r, "suiteflow-worker");
        let keys = Keyring::read(r);
        let retry = RetryConfig::read(r);
        let api = ApiBases::read(r);
        let public_url = PublicUrl::read(r);
        let worker = WorkerConfig::read(r);
        let telemetry = TelemetryConfig::read(r);
        Some(Self {
            database: database?,
            keys: keys?,
            retry: retry?,
            api: api?,
            public_url: public_url?,
            worker: worker?,
            telemetry: telemetry?,
        })
    }
}

impl WorkerConfig {
    pub fn read(r: &mut Reader<'_>) -> Option<Self> {
        let batch = r.with_default("WORKER_BATCH_SIZE", 25, integer_in(1..=1000));
        let concurrency = r.with_default("WORKER_CONCURRENCY", 10, integer_in(1..=256));
        let lease = r.with_default("LOCK_TIMEOUT_MS", 300_000, integer_in(1000..=3_600_000));
        let default_addr = SocketAddr::from(([0, 0, 0, 0], 9090));
        let metrics_addr = r.with_default("WORKER_METRICS_ADDR", default_addr, socket_addr);
        let retention = r.with_default("EVENT_RETENTION_DAYS", 7, integer_in(1..=3650));
        let audit_retention = r.with_default("AUDIT_RETENTION_DAYS", 365, integer_in(1..=3650));
        let webhook_check =
            r.with_default("WEBHOOK_CHECK_INTERVAL_SECS", 3600, integer_in(5..=604_800));
        let schema_ttl = r.with_default("SCHEMA_TTL_SECS", 300, integer_in(1..=86_400));
        Some(Self {
            batch_size: u32::try_from(batch?).ok()?,
            concurrency: u32::try_from(concurrency?).ok()?,
            lease: Duration::from_millis(lease?),
            metrics_addr: metrics_addr?,
            retention_days: u32::try_from(retention?).ok()?,
            audit_retention_days: u32::try_from(audit_retention?).ok()?,
            webhook_check_interval: Duration::from_secs(webhook_check?),
            schema_ttl: Duration::from_secs(schema_ttl?),
        })
    }
}
