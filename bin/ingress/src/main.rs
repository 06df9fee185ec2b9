fn main() -> anyhow::Result<()> {
    let settings = suiteflow_settings::load_or_exit(ingress::Settings::read);
    suiteflow_telemetry::init(&settings.telemetry)?;
    actix_web::rt::System::new().block_on(async move {
        let app = ingress::Application::build(settings)?;
        tracing::info!(addr = %app.addr(), "ingress listening");
        app.run_until_stopped().await?;
        tracing::info!("ingress stopped");
        Ok(())
    })
}
