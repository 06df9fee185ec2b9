//! The `suiteflow` command line: migrations, connections, mappings, replays and backfills.

pub mod settings;

use std::io::{BufRead, Write};

use anyhow::Context as _;
use clap::{Parser, Subcommand};

pub use settings::Settings;

#[derive(Debug, Parser)]
#[command(name = "suiteflow", version, about = "Keeps Webflow CMS collections in sync with SmartSuite tables")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending database migrations (safe to run twice, or from two places at once).
    Migrate {
        /// Print the applied versions as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Read a password on standard input and print its bcrypt hash for DASHBOARD_PASSWORD_HASH.
    HashPassword {
        /// bcrypt cost (4..=31).
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(4..=31))]
        cost: u32,
    },
}

/// Runs a command that needs the configuration.
pub async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Migrate { json } => {
            let applied = suiteflow_store::run_migrations(settings.database.url.expose())
                .await
                .context("migrating the database")?;
            if json {
                println!("{}", serde_json::json!({ "applied": applied }));
            } else if applied.is_empty() {
                println!("database is up to date");
            } else {
                for version in &applied {
                    println!("applied {version}");
                }
            }
            Ok(())
        }
        Command::HashPassword { cost } => hash_password(cost),
    }
}

/// Reads one line (the password) from standard input and prints its bcrypt hash.
pub fn hash_password(cost: u32) -> anyhow::Result<()> {
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password).context("reading the password")?;
    let password = password.trim_end_matches(['\r', '\n']);
    anyhow::ensure!(!password.is_empty(), "the password on standard input is empty");
    let hash = bcrypt::hash(password, cost).context("hashing the password")?;
    writeln!(std::io::stdout(), "{hash}")?;
    Ok(())
}
