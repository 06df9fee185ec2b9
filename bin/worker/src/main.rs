use clap::Parser;

/// Claims queued events and writes them to Webflow.
#[derive(Parser)]
#[command(name = "worker", version)]
struct Args {
    /// Claim and process one batch, print the summary as JSON, and exit.
    #[arg(long)]
    once: bool,
}

// mimalloc: glibc's allocator is slower under many threads and fragments in long-running
// services; the mapper and the ingress allocate per record and per request.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let settings = suiteflow_settings::load_or_exit(worker::Settings::read);
    // Kept until the process ends: dropping it flushes exported traces.
    let _telemetry = suiteflow_telemetry::init(&settings.telemetry, "suiteflow-worker")?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(args, settings))
}

async fn run(args: Args, settings: worker::Settings) -> anyhow::Result<()> {
    let store = suiteflow_store::Store::connect(&settings.database).await?;
    let metrics_addr = settings.worker.metrics_addr;
    let worker = worker::Worker::new(store, settings);
    if args.once {
        let summary = worker.run_once().await?;
        println!("{}", serde_json::to_string(&summary)?);
        return Ok(());
    }
    let (server, bound) = worker::metrics::serve(metrics_addr)?;
    let server_handle = server.handle();
    tokio::spawn(server);
    tracing::info!(addr = %bound, "metrics and health listening");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutdown requested: finishing the batch in hand");
        let _ = stop_tx.send(true);
    });
    worker.run(stop_rx).await?;
    server_handle.stop(true).await;
    Ok(())
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
