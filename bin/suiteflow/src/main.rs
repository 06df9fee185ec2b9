use std::process::ExitCode;

use clap::Parser as _;
use suiteflow_cli::error::EXIT_USAGE;
use suiteflow_cli::{Cli, Command, Settings};

fn main() -> ExitCode {
    if let Some(message) = suiteflow_cli::secret_flags::refuse_secret_flags(std::env::args_os()) {
        eprintln!("error: {message}");
        return ExitCode::from(EXIT_USAGE);
    }
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::HashPassword { cost } => suiteflow_cli::hash_password(cost),
        Command::Console => suiteflow_cli::console(),
        _ => {
            let settings = suiteflow_settings::load_or_exit(Settings::read);
            // Kept until the command ends: dropping it flushes exported traces.
            let _telemetry = match suiteflow_telemetry::init(&settings.telemetry, "suiteflow-cli") {
                Ok(telemetry) => telemetry,
                Err(e) => {
                    eprintln!("error: cannot start logging: {e}");
                    return ExitCode::from(EXIT_USAGE);
                }
            };
            match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(suiteflow_cli::run(cli, settings)),
                Err(e) => Err(suiteflow_cli::error::failure(format!(
                    "cannot start the runtime: {e}"
                ))),
            }
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}
