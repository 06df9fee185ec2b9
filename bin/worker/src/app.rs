//! The worker process: the loop, the `/metrics` and `/healthz` server beside it, and SIGTERM.

use std::net::SocketAddr;

use anyhow::Context as _;
use suiteflow_store::Store;

use crate::Settings;
use crate::runner::{Summary, Worker};

/// A built worker: connected to the database, its metrics listener bound, not yet running.
pub struct Application {
    worker: Worker,
    metrics: Option<(actix_web::dev::Server, SocketAddr)>,
}

impl Application {
    /// Connects to the database (an unreachable database is reported now) and binds
    /// `WORKER_METRICS_ADDR` (port 0 picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = Store::connect(&settings.database)
            .await
            .context("connecting to the database")?;
        let addr = settings.worker.metrics_addr;
        let metrics = crate::metrics::serve(addr).with_context(|| format!("binding {addr}"))?;
        crate::metrics::monthly_quota(settings.api.smartsuite_monthly_quota);
        Ok(Self {
            worker: Worker::new(store, settings),
            metrics: Some(metrics),
        })
    }

    /// Connects to the database only, for `worker --once` (no metrics server).
    pub async fn build_once(settings: Settings) -> anyhow::Result<Self> {
        let store = Store::connect(&settings.database)
            .await
            .context("connecting to the database")?;
        Ok(Self {
            worker: Worker::new(store, settings),
            metrics: None,
        })
    }

    /// Where `/metrics` and `/healthz` are served.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(_, addr)| *addr)
    }

    /// Claims and processes one batch and returns the summary.
    pub async fn run_once(self) -> anyhow::Result<Summary> {
        tracing::info!(worker = %self.worker.id(), "worker --once started");
        let summary = self.worker.run_once().await?;
        tracing::info!(
            processed = summary.processed,
            succeeded = summary.succeeded,
            failed = summary.failed,
            duration_ms = summary.duration_ms,
            "worker --once finished"
        );
        Ok(summary)
    }

    /// Runs until SIGTERM or SIGINT: then claims nothing more, records the batch in hand and
    /// stops the metrics server.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let server = match self.metrics {
            Some((server, addr)) => {
                tracing::info!(addr = %addr, "metrics and health listening");
                let handle = server.handle();
                tokio::spawn(server);
                Some(handle)
            }
            None => None,
        };
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutdown requested: finishing the batch in hand");
            let _ = stop_tx.send(true);
        });
        self.worker.run(stop_rx).await?;
        if let Some(handle) = server {
            handle.stop(true).await;
        }
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
