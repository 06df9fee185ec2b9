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
        .block_on(async move {
            if args.once {
                let app = worker::Application::build_once(settings).await?;
                println!("{}", serde_json::to_string(&app.run_once().await?)?);
                Ok(())
            } else {
                worker::Application::build(settings)
                    .await?
                    .run_until_stopped()
                    .await
            }
        })
}
