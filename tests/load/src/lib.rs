//! Shared pieces of the load benchmarks (`bench-ingress`, `bench-sync`): the test cluster check,
//! signing, percentiles, the machine's load average and the row count of `events`.

/// The allocator the `ingress` and `worker` binaries run with, so the benchmarks measure what
/// production runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Duration;

use anyhow::{Context as _, bail};
use suiteflow_crypto::SecretString;
use suiteflow_store::{AsyncConnection as _, AsyncPgConnection};

/// Fails unless the process runs under `scripts/with-postgres.sh` (which sets both variables).
pub fn require_cluster() -> anyhow::Result<()> {
    for name in [
        suiteflow_test_support::db::ADMIN_URL_VARIABLE,
        "DATABASE_URL",
    ] {
        if std::env::var_os(name).is_none() {
            bail!(
                "{name} is not set: run under scripts/with-postgres.sh --durable (see tests/load/README.md)"
            );
        }
    }
    Ok(())
}

/// Installs ring as rustls's provider (reqwest is built without one).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The `x-smartsuite-signature` header of `body` under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    suiteflow_webhook_security::sign_hmac(&SecretString::new(secret), body)
}

/// The ingress in-process on the address `env` names (`INGRESS_ADDR`, port 0 for a free one),
/// with the settings `env` gives; returns its base URL and a stopper.
pub fn start_ingress(
    env: Vec<(String, String)>,
) -> anyhow::Result<(String, Box<dyn FnOnce() + Send>)> {
    let source =
        suiteflow_settings::Source::new(None, env).context("reading the ingress settings")?;
    let mut r = suiteflow_settings::Reader::new(&source);
    let settings = ingress::Settings::read(&mut r);
    let settings = r
        .finish(|| settings)
        .context("validating the ingress settings")?;
    let app = ingress::Application::build(settings)?;
    let base = format!("http://{}", app.addr());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    Ok((base, Box::new(move || drop(handle.stop(false)))))
}

/// The `q`-quantile (0.0 ..= 1.0) of sorted samples, nearest-rank.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// `/proc/loadavg`'s first three fields, or `unknown`.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

/// The number of logical CPUs.
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Rows in `events` of the database at `url`.
pub async fn event_rows(url: &str) -> anyhow::Result<i64> {
    let mut conn = AsyncPgConnection::establish(url)
        .await
        .context("connecting to the bench database")?;
    let counts = suiteflow_store::queue::count_by_status(&mut conn)
        .await
        .context("counting events")?;
    Ok(counts.iter().map(|(_, n)| n).sum())
}

/// The value of a server setting of the database at `url`.
pub async fn server_setting(url: &str, name: &str) -> anyhow::Result<String> {
    let mut conn = AsyncPgConnection::establish(url)
        .await
        .context("connecting to the bench database")?;
    Ok(suiteflow_test_support::rows::server_setting(&mut conn, name).await)
}

/// `PASS` or `MISS`.
pub fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
}
