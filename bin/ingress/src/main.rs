// mimalloc: glibc's allocator is slower under many threads and fragments in long-running
// services; the mapper and the ingress allocate per record and per request.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Receives webhooks: verifies, dedupes and enqueues them (configured by environment variables,
/// see the README).
#[derive(clap::Parser)]
#[command(name = "ingress", version)]
struct Args {}

fn main() -> anyhow::Result<()> {
    // Only --help and --version; anything else is refused before any setting is read.
    let Args {} = clap::Parser::parse();
    let settings = suiteflow_settings::load_or_exit(ingress::Settings::read);
    // Kept until the process ends: dropping it flushes exported traces.
    let _telemetry = suiteflow_telemetry::init(&settings.telemetry, "suiteflow-ingress")?;
    actix_web::rt::System::new().block_on(async move {
        let app = ingress::Application::build(settings)?;
        tracing::info!(addr = %app.addr(), "ingress listening");
        app.run_until_stopped().await?;
        tracing::info!("ingress stopped");
        Ok(())
    })
}
