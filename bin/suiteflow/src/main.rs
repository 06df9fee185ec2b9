use clap::Parser as _;
use suiteflow_cli::{Cli, Command, Settings};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::HashPassword { cost } = cli.command {
        return suiteflow_cli::hash_password(cost);
    }
    let settings = suiteflow_settings::load_or_exit(Settings::read);
    suiteflow_telemetry::init(&settings.telemetry)?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(suiteflow_cli::run(cli.command, settings))
}
