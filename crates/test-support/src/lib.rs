#![doc = include_str!("../README.md")]
// A dev-only crate: failing loudly is what a test helper should do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod config;
pub mod db;
pub mod fixtures;
pub mod http;
pub mod otlp;
pub mod process;
pub mod rows;
mod server;
pub mod smartsuite;
pub mod webflow;

pub use db::TestDb;

/// Polls `check` every 20 ms until it gives `Some`, for at most `limit`; its first `Some`.
pub async fn eventually<T>(
    limit: std::time::Duration,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> Option<T> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(found) = check().await {
            return Some(found);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
