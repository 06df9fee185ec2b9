use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use figment::providers::{Format, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};

use crate::{Problem, Problems};

/// Every setting (the README's configuration table). Environment variables outside this list are ignored; keys in the
/// TOML file outside it are reported as problems (a typo there would otherwise go unnoticed).
pub const VARIABLES: &[&str] = &[
    "DATABASE_URL",
    "DATA_ENCRYPTION_KEY",
    "DATA_ENCRYPTION_KEY_PREVIOUS",
    "APP_URL",
    "INGRESS_ADDR",
    "WORKER_METRICS_ADDR",
    "CONSOLE_ADDR",
    "WRITE_CAP_PER_MINUTE",
    "MAX_RETRY_ATTEMPTS",
    "RETRY_BACKOFF_MS",
    "MAX_RETRY_BACKOFF_MS",
    "WORKER_BATCH_SIZE",
    "WORKER_CONCURRENCY",
    "LOCK_TIMEOUT_MS",
    "WEBHOOK_MAX_AGE_SECS",
    "MAX_BODY_BYTES",
    "EVENT_RETENTION_DAYS",
    "AUDIT_RETENTION_DAYS",
    "WEBHOOK_CHECK_INTERVAL_SECS",
    "SCHEMA_TTL_SECS",
    "LOG_LEVEL",
    "PRETTY_LOGS",
    "WEBFLOW_API_BASE",
    "SMARTSUITE_API_BASE",
    "SMARTSUITE_WEBHOOKS_API_BASE",
    "SMARTSUITE_MONTHLY_QUOTA",
    "DASHBOARD_PASSWORD_HASH",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_SERVICE_NAME",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
];

/// The variable that names the TOML file.
pub const CONFIG_FILE_VARIABLE: &str = "SUITEFLOW_CONFIG";
const DEFAULT_CONFIG_FILE: &str = "suiteflow.toml";

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Environment,
    File(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Environment => f.write_str("the environment"),
            Origin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The layered configuration: the TOML file (`SUITEFLOW_CONFIG`, or `./suiteflow.toml` when
/// present), then the environment on top. Built-in defaults belong to each part and apply when
/// neither layer names a variable.
pub struct Source {
    figment: Figment,
    file: Option<PathBuf>,
}

impl Source {
    /// The process's own configuration.
    pub fn from_process() -> Result<Self, Problems> {
        let file = match std::env::var_os(CONFIG_FILE_VARIABLE) {
            Some(path) if !path.is_empty() => {
                let path = PathBuf::from(path);
                if !path.is_file() {
                    return Err(Problems(vec![Problem {
                        variable: CONFIG_FILE_VARIABLE.into(),
                        rule: "must name a readable TOML file".into(),
                        origin: Some(Origin::Environment),
                    }]));
                }
                Some(path)
            }
            _ => Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|p| p.is_file()),
        };
        Self::new(file.as_deref(), std::env::vars())
    }

    /// A configuration from an optional TOML file and the given environment, for tests and for
    /// [`Source::from_process`].
    pub fn new(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, Problems> {
        let mut figment = Figment::new();
        if let Some(path) = file {
            figment = figment.merge(UppercaseKeys(Toml::file_exact(path)));
        }
        figment = figment.merge(Environment(
            env.into_iter()
                .filter(|(k, _)| VARIABLES.contains(&k.as_str()))
                .collect(),
        ));
        // A file that is not valid TOML is one problem, named after the file variable.
        if let Err(error) = figment.data() {
            return Err(Problems(vec![Problem {
                variable: CONFIG_FILE_VARIABLE.into(),
                rule: format!("must be a valid TOML file of settings ({})", error.kind),
                origin: file.map(|p| Origin::File(p.to_path_buf())),
            }]));
        }
        Ok(Self {
            figment,
            file: file.map(Path::to_path_buf),
        })
    }

    /// The raw text of a variable and where it came from.
    pub fn get(&self, name: &str) -> Option<(String, Origin)> {
        let value = self.figment.find_value(name).ok()?;
        let origin = self.origin_of(&value);
        Some((scalar_text(&value), origin))
    }

    fn origin_of(&self, value: &Value) -> Origin {
        match (self.figment.get_metadata(value.tag()), &self.file) {
            (Some(meta), Some(file)) if meta.name != ENVIRONMENT => Origin::File(file.clone()),
            _ => Origin::Environment,
        }
    }

    pub(crate) fn unknown_keys(&self) -> impl Iterator<Item = (String, Origin)> + '_ {
        let keys: Vec<(String, Origin)> = match self.figment.data() {
            Ok(data) => data
                .into_values()
                .flat_map(|dict| dict.into_iter())
                .filter(|(k, _)| !VARIABLES.contains(&k.as_str()))
                .map(|(k, v)| {
                    let origin = self.origin_of(&v);
                    (k, origin)
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        keys.into_iter()
    }
}

/// The text of a scalar value; a table or array in the TOML file yields a text that no parser
/// accepts, so it is reported as a bad value of that variable.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(_, s) => s.clone(),
        Value::Char(_, c) => c.to_string(),
        Value::Bool(_, b) => b.to_string(),
        Value::Num(_, n) => match (n.to_u128(), n.to_i128(), n.to_f64()) {
            (Some(u), _, _) => u.to_string(),
            (_, Some(i), _) => i.to_string(),
            (_, _, Some(f)) => f.to_string(),
            _ => String::from("\u{0}"),
        },
        Value::Empty(_, _) => String::new(),
        Value::Dict(..) | Value::Array(..) => String::from("\u{0}"),
    }
}

const ENVIRONMENT: &str = "environment";

/// Environment variables as plain strings. figment's own `Env` provider guesses types, which
/// would turn an all-digit hex key into a number; every rule here is checked on the text.
struct Environment(BTreeMap<String, String>);

impl Provider for Environment {
    fn metadata(&self) -> Metadata {
        Metadata::named(ENVIRONMENT)
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let dict = self
            .0
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.clone())))
            .collect();
        Ok(Profile::Default.collect(dict))
    }
}

/// Lets the TOML file spell variables in any case (`database_url` or `DATABASE_URL`).
struct UppercaseKeys<P>(P);

impl<P: Provider> Provider for UppercaseKeys<P> {
    fn metadata(&self) -> Metadata {
        self.0.metadata()
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let data = self.0.data()?;
        Ok(data
            .into_iter()
            .map(|(profile, dict)| {
                (
                    profile,
                    dict.into_iter()
                        .map(|(k, v)| (k.to_uppercase(), v))
                        .collect(),
                )
            })
            .collect())
    }
}
