fn main() -> anyhow::Result<()> {
    let settings = suiteflow_settings::load_or_exit(ingress::Settings::read);
    suiteflow_telemetry::init(&settings.telemetry)?;
    tracing::info!(addr = %settings.http.addr, "ingress configured");
    Ok(())
}
