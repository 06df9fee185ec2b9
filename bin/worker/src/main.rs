fn main() -> anyhow::Result<()> {
    let settings = suiteflow_settings::load_or_exit(worker::Settings::read);
    suiteflow_telemetry::init(&settings.telemetry)?;
    tracing::info!(batch = settings.worker.batch_size, "worker configured");
    Ok(())
}
