#![doc = include_str!("../README.md")]

pub mod commands;
pub mod context;
pub mod error;
pub mod output;
pub mod secret_flags;
pub mod settings;

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use context::CommandContext;
pub use error::{CliError, CliResult};
pub use settings::Settings;

const LONG_ABOUT: &str = "\
Keeps Webflow CMS collections in sync with SmartSuite tables.

`suiteflow` manages what the `ingress` and `worker` processes run on: the database schema,
connections (a SmartSuite table paired with a Webflow collection), mappings, the event queue
(replays, dead letters), backfills and checks.

Configuration comes from the environment (or SUITEFLOW_CONFIG / ./suiteflow.toml): DATABASE_URL
and DATA_ENCRYPTION_KEY are required; APP_URL is the public base of webhook URLs. The SmartSuite
API key and the Webflow token of `connection create` are read only from SMARTSUITE_API_KEY and
WEBFLOW_TOKEN, never from flags.

Every command that lists or creates something prints JSON with --json.";

#[derive(Debug, Parser)]
#[command(
    name = "suiteflow",
    version,
    about = "Keeps Webflow CMS collections in sync with SmartSuite tables",
    long_about = LONG_ABOUT,
    after_long_help = error::EXIT_CODES_HELP,
    after_help = "Exit codes: 0 ok, 1 operational failure, 2 usage/configuration error, 3 refused (invalid input). See --help."
)]
pub struct Cli {
    /// Print machine-readable JSON on standard output instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending database migrations (safe to run twice, or from two places at once).
    Migrate,
    /// Create and manage connections (a SmartSuite table paired with a Webflow collection).
    #[command(subcommand)]
    Connection(ConnectionCommand),
    /// Set, show and preview a connection's mapping (SmartSuite record -> Webflow fieldData).
    #[command(subcommand)]
    Mapping(MappingCommand),
    /// List, inspect and replay queued events.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Bring every record of the connection's SmartSuite table over: items already in the
    /// Webflow collection are matched (by the mapping's `match`) and adopted, not duplicated,
    /// and only the records whose item needs content are queued. Resumable: records already
    /// queued with the same content are skipped. Try --dry-run first.
    Backfill(BackfillArgs),
    /// Check a connection: credentials, access, and whether its mapping fits the live schemas.
    /// Exits 1 when a check fails.
    Check {
        /// Connection id or name.
        connection: String,
    },
    /// Serve the operators' web console and its JSON API on CONSOLE_ADDR (needs
    /// DASHBOARD_PASSWORD_HASH). Runs until SIGTERM.
    Console,
    /// Read a password on standard input and print its bcrypt hash for DASHBOARD_PASSWORD_HASH.
    HashPassword {
        /// bcrypt cost (4..=31).
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(4..=31))]
        cost: u32,
    },
    /// Re-encrypt every connection secret with the current DATA_ENCRYPTION_KEY (old values are
    /// opened with DATA_ENCRYPTION_KEY_PREVIOUS).
    RotateKeys {
        /// Count what would be re-encrypted; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemeArg {
    /// Signed pushes: `x-smartsuite-signature: sha256=<HMAC-SHA256(secret, body)>`.
    Hmac,
    /// Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
    Standard,
    /// SmartSuite's own webhooks (notify, then pull), plus signed `hmac` pushes.
    Smartsuite,
}

#[derive(Debug, Subcommand)]
pub enum ConnectionCommand {
    /// Create a connection. The SmartSuite API key and the Webflow token are read from
    /// SMARTSUITE_API_KEY and WEBFLOW_TOKEN. Prints the id, the webhook URL and the webhook
    /// secret (shown once).
    Create(CreateArgs),
    /// List every connection.
    List,
    /// Show one connection (never its secrets).
    Show {
        /// Connection id or name.
        connection: String,
    },
    /// Stop processing a connection's events (they wait in the queue).
    Pause {
        /// Connection id or name.
        connection: String,
    },
    /// Process a paused (or errored) connection's events again.
    Resume {
        /// Connection id or name.
        connection: String,
    },
    /// Retire a connection: webhooks are refused, events are no longer processed, its history
    /// is kept.
    Archive {
        /// Connection id or name.
        connection: String,
    },
    /// Replace the webhook signing secret and print the new one (shown once).
    RotateSecret {
        /// Connection id or name.
        connection: String,
    },
    /// Register a SmartSuite webhook (CreateWebhook) that notifies
    /// APP_URL/api/hooks/smartsuite/<id>/<token>; a fresh URL token is generated each time.
    RegisterWebhook {
        /// Connection id or name.
        connection: String,
    },
    /// Change a connection's settings (only those given).
    Set(SetArgs),
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// Connection id or name.
    pub connection: String,
    #[command(flatten)]
    pub tuning: Tuning,
}

/// How a connection's events are paced and retried.
#[derive(Debug, Clone, Args)]
pub struct Tuning {
    /// Webflow writes per minute for this connection [create's default: WRITE_CAP_PER_MINUTE].
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=1000))]
    pub rate_limit: Option<i32>,
    /// Attempts before an event goes to the dead letters [create's default: MAX_RETRY_ATTEMPTS].
    #[arg(long, value_parser = clap::value_parser!(i32).range(0..=50))]
    pub max_retries: Option<i32>,
    /// Base retry backoff in milliseconds [create's default: RETRY_BACKOFF_MS].
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=3_600_000))]
    pub retry_backoff_ms: Option<i32>,
    /// Wait until a record has been quiet this long before writing it, so a burst of saves
    /// becomes one write (`5s`, `500ms`, `0` for at once; at most 1h) [create's default: 0].
    #[arg(long, value_parser = parse_sync_delay)]
    pub sync_delay: Option<i32>,
}

/// A `--sync-delay` in milliseconds: a duration such as `5s`, `750ms`, `2m`, or `0`.
fn parse_sync_delay(text: &str) -> Result<i32, String> {
    let text = text.trim();
    let duration = if text == "0" {
        std::time::Duration::ZERO
    } else {
        humantime::parse_duration(text).map_err(|e| format!("{e} (write it as 5s, 750ms or 2m)"))?
    };
    i32::try_from(duration.as_millis())
        .ok()
        .filter(|ms| *ms <= 3_600_000)
        .ok_or_else(|| "must be at most 1h".to_string())
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// A name for people (unique names can be used instead of the id).
    #[arg(long)]
    pub name: String,
    /// SmartSuite workspace id (the ACCOUNT-ID, e.g. `sv25cxf2`).
    #[arg(long)]
    pub smartsuite_account: String,
    /// SmartSuite table (application) id.
    #[arg(long)]
    pub smartsuite_table: String,
    /// SmartSuite solution id (looked up from the table when needed otherwise).
    #[arg(long)]
    pub smartsuite_solution: Option<String>,
    /// Webflow site id.
    #[arg(long)]
    pub webflow_site: String,
    /// Webflow CMS collection id.
    #[arg(long)]
    pub webflow_collection: String,
    /// How webhooks to this connection are authenticated.
    #[arg(long, value_enum, default_value_t = SchemeArg::Hmac)]
    pub scheme: SchemeArg,
    #[command(flatten)]
    pub tuning: Tuning,
}

#[derive(Debug, Subcommand)]
pub enum MappingCommand {
    /// Store a mapping document (JSON, YAML or TOML). It is checked against the live SmartSuite
    /// table and Webflow collection; an invalid mapping is refused with every problem listed
    /// and nothing is stored. A document without `transliterateSlugs` keeps the connection's
    /// current setting, and turns it on for the connection's first mapping.
    Set {
        /// Connection id or name.
        connection: String,
        /// The mapping document (`-` for standard input).
        #[arg(long)]
        file: PathBuf,
        /// The document's syntax [default: from the file extension, else JSON].
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
        /// Do not fetch the live schemas (when the credentials cannot be checked now): only
        /// the document's syntax, expressions, templates and transforms are checked.
        #[arg(long)]
        offline: bool,
    },
    /// Print the stored mapping document (JSON; redirect it to a file to edit it).
    Show {
        /// Connection id or name.
        connection: String,
    },
    /// Map one live SmartSuite record and print the Webflow fieldData and warnings. Writes
    /// nothing.
    Preview {
        /// Connection id or name.
        connection: String,
        /// SmartSuite record id.
        #[arg(long)]
        record: String,
        /// Preview this document instead of the stored mapping, as `mapping set` would store
        /// it.
        #[arg(long)]
        file: Option<PathBuf>,
        /// The syntax of --file [default: from the file extension, else JSON].
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Json,
    Yaml,
    Toml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    Queued,
    Processing,
    Success,
    Failed,
    #[value(alias = "dead_letter")]
    DeadLetter,
    Skipped,
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// List events, newest first.
    List {
        /// Only events with this status.
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
        /// Only events of this connection (id or name).
        #[arg(long)]
        connection: Option<String>,
        /// Only partial successes: items written with fields that could not be (a file
        /// Webflow dropped, a link to a record with no item yet, a value that did not
        /// convert); `events show` prints their warnings.
        #[arg(long)]
        partial: bool,
        /// At most this many events.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        limit: i64,
    },
    /// Show one event with its payload, error and Webflow response.
    Show {
        /// Event id.
        id: String,
    },
    /// Put a finished event back in the queue (attempts reset), or every dead letter with
    /// --dead-letter.
    Replay {
        /// Event id.
        #[arg(
            required_unless_present = "dead_letter",
            conflicts_with = "dead_letter"
        )]
        id: Option<String>,
        /// Replay every dead-lettered event (of one connection with --connection).
        #[arg(long)]
        dead_letter: bool,
        /// With --dead-letter: only this connection's (id or name).
        #[arg(long, requires = "dead_letter")]
        connection: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// Connection id or name.
    pub connection: String,
    /// Read both sides and print the plan (records to create, items to adopt or update,
    /// unchanged records, orphan items); write nothing anywhere.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply the mapping's deleteBehavior to orphans (items no record holds or matches). By
    /// default they are left alone.
    #[arg(long)]
    pub prune: bool,
    /// Events inserted per statement (the plan's and, without a mapping, the listing's).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub batch_size: u32,
    /// Records fetched from SmartSuite per request.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub page_size: u32,
}

/// Runs a command that needs the configuration.
pub async fn run(cli: Cli, settings: Settings) -> CliResult {
    suiteflow_smartsuite_client::install_crypto_provider();
    let json = cli.json;
    match cli.command {
        Command::Migrate => commands::migrate::run(&settings, json).await,
        Command::HashPassword { cost } => hash_password(cost),
        // The console runs on a runtime of its own: main starts it with `console()`.
        Command::Console => Err(error::usage("`suiteflow console` is started by main")),
        command => {
            let ctx = CommandContext::connect(settings, json).await?;
            match command {
                Command::Connection(c) => commands::connection::run(&ctx, c).await,
                Command::Mapping(c) => commands::mapping::run(&ctx, c).await,
                Command::Events(c) => commands::events::run(&ctx, c).await,
                Command::Backfill(args) => commands::backfill::run(&ctx, args).await,
                Command::Check { connection } => commands::check::run(&ctx, &connection).await,
                Command::RotateKeys { dry_run } => commands::rotate_keys::run(&ctx, dry_run).await,
                Command::Migrate | Command::HashPassword { .. } | Command::Console => Ok(()),
            }
        }
    }
}

/// Reads one line (the password) from standard input and prints its bcrypt hash.
pub fn hash_password(cost: u32) -> CliResult {
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|e| error::failure(format!("reading the password: {e}")))?;
    let password = password.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        return Err(error::usage("the password on standard input is empty"));
    }
    let hash = bcrypt::hash(password, cost)
        .map_err(|e| error::failure(format!("hashing the password: {e}")))?;
    writeln!(std::io::stdout(), "{hash}")
        .map_err(|e| error::failure(format!("writing the hash: {e}")))?;
    Ok(())
}

/// `suiteflow console`: the console's own settings (`DASHBOARD_PASSWORD_HASH` required: a
/// missing one stops it with exit 2, naming the variable), then the server until SIGTERM.
pub fn console() -> CliResult {
    let settings = suiteflow_settings::load_or_exit(suiteflow_console::ConsoleSettings::read);
    let _telemetry = suiteflow_telemetry::init(&settings.telemetry, "suiteflow-console")
        .map_err(|e| error::usage(format!("cannot start logging: {e}")))?;
    actix_web::rt::System::new().block_on(async move {
        let console = suiteflow_console::Console::build(settings)
            .map_err(|e| error::failure(format!("cannot start the console: {e}")))?;
        eprintln!("console listening on http://{}", console.addr());
        console
            .run_until_stopped()
            .await
            .map_err(|e| error::failure(format!("the console stopped: {e}")))
    })
}
