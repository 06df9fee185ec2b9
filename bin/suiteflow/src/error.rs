//! Exit codes and the error every command returns.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | operational failure: the database, SmartSuite or Webflow failed or refused the credentials |
//! | 2 | usage or configuration error: bad flags, a bad variable, a missing secret variable, a secret passed as a flag |
//! | 3 | refused: the input is invalid (unknown connection or event, invalid mapping, event not replayable); nothing was changed |

use std::fmt;
use std::process::ExitCode;

/// Success.
pub const EXIT_OK: u8 = 0;
/// Operational failure.
pub const EXIT_FAILURE: u8 = 1;
/// Usage or configuration error (also clap's code for bad flags).
pub const EXIT_USAGE: u8 = 2;
/// Refused: invalid input; nothing was changed.
pub const EXIT_REFUSED: u8 = 3;

/// The exit-code table shown at the end of `suiteflow --help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  operational failure (database, SmartSuite or Webflow unreachable or refusing credentials;
     a failed `check`)
  2  usage or configuration error (bad flags or variables, a missing SMARTSUITE_API_KEY /
     WEBFLOW_TOKEN, a secret passed as a flag)
  3  refused: invalid input (unknown connection or event, invalid mapping, event that cannot
     be replayed); nothing was changed";

/// A command's failure: what to print and which code to exit with.
pub struct CliError {
    code: u8,
    error: anyhow::Error,
}

pub type CliResult<T = ()> = Result<T, CliError>;

impl CliError {
    pub fn new(code: u8, error: anyhow::Error) -> Self {
        Self { code, error }
    }

    /// Exit code of this error.
    pub fn code(&self) -> u8 {
        self.code
    }

    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
}

/// Invalid input: exit 3.
pub fn refused(message: impl fmt::Display) -> CliError {
    CliError::new(EXIT_REFUSED, anyhow::anyhow!("{message}"))
}

/// Usage or configuration error: exit 2.
pub fn usage(message: impl fmt::Display) -> CliError {
    CliError::new(EXIT_USAGE, anyhow::anyhow!("{message}"))
}

/// Operational failure: exit 1.
pub fn failure(message: impl fmt::Display) -> CliError {
    CliError::new(EXIT_FAILURE, anyhow::anyhow!("{message}"))
}

impl<E> From<E> for CliError
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn from(error: E) -> Self {
        Self::new(EXIT_FAILURE, anyhow::Error::new(error))
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl fmt::Debug for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CliError({}, {:#})", self.code, self.error)
    }
}

/// Adds context to a result while keeping (or choosing) the exit code.
pub trait ResultExt<T> {
    /// Failure (exit 1) with `context` in front of the cause.
    fn or_fail(self, context: impl fmt::Display) -> CliResult<T>;
}

impl<T, E> ResultExt<T> for Result<T, E>
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn or_fail(self, context: impl fmt::Display) -> CliResult<T> {
        self.map_err(|e| {
            CliError::new(
                EXIT_FAILURE,
                anyhow::Error::new(e).context(context.to_string()),
            )
        })
    }
}
