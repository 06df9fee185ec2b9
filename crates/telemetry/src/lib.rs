#![doc = include_str!("../README.md")]

mod trace;

use suiteflow_settings::{Reader, boolean, http_url};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use trace::otel_layer;
pub use trace::{Telemetry, add_link, continue_from, continue_trace, trace_context};

/// The telemetry settings part: `LOG_LEVEL`, `PRETTY_LOGS`, `OTEL_EXPORTER_OTLP_ENDPOINT`,
/// `OTEL_SERVICE_NAME`.
#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    /// A tracing filter such as `info` or `info,suiteflow_store=debug`.
    pub log_level: String,
    /// Human-readable lines instead of JSON.
    pub pretty: bool,
    /// Where to export traces over OTLP; none means no export.
    pub otlp_endpoint: Option<url::Url>,
    /// The exported `service.name`; by default the binary's own (`suiteflow-ingress`, …).
    pub service_name: Option<String>,
}

impl TelemetryConfig {
    pub fn read(r: &mut Reader<'_>) -> Option<Self> {
        let log_level = r.with_default("LOG_LEVEL", "info".to_string(), parse_filter);
        let pretty = r.with_default("PRETTY_LOGS", false, boolean);
        let otlp_endpoint = r.optional("OTEL_EXPORTER_OTLP_ENDPOINT", http_url);
        let service_name = r.optional("OTEL_SERVICE_NAME", service_name);
        Some(Self {
            log_level: log_level?,
            pretty: pretty?,
            otlp_endpoint: otlp_endpoint?,
            service_name: service_name?,
        })
    }
}

fn service_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() || name.len() > 128 || name.chars().any(char::is_control) {
        return Err("must be a service name of 1 to 128 printable characters".into());
    }
    Ok(name.to_string())
}

fn parse_filter(raw: &str) -> Result<String, String> {
    EnvFilter::try_new(raw)
        .map(|_| raw.to_string())
        .map_err(|_| "must be a tracing filter such as info or info,suiteflow_store=debug".into())
}

/// Why logging could not start.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("a global tracing subscriber is already installed")]
    AlreadyInstalled,
    #[error("cannot build the OTLP trace exporter: {0}")]
    Exporter(String),
}

/// Installs the process's tracing subscriber: JSON lines by default, human-readable with
/// `PRETTY_LOGS=true`, filtered by `LOG_LEVEL`, written to standard error (standard output
/// belongs to the CLI's results). With `OTEL_EXPORTER_OTLP_ENDPOINT`, spans are also exported
/// over OTLP/HTTP as `OTEL_SERVICE_NAME`, or else `service`, until the returned [`Telemetry`]
/// is dropped. Libraries only
/// emit spans and events; binaries call this once.
pub fn init(config: &TelemetryConfig, service: &'static str) -> Result<Telemetry, TelemetryError> {
    let filter = EnvFilter::try_new(&config.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let logs: Box<dyn Layer<Registry> + Send + Sync> = if config.pretty {
        tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_writer(std::io::stderr)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_span_events(FmtSpan::NONE)
            .with_writer(std::io::stderr)
            .boxed()
    };
    let provider = match &config.otlp_endpoint {
        Some(endpoint) => {
            let service = config.service_name.as_deref().unwrap_or(service);
            Some(trace::otlp_provider(endpoint, service)?)
        }
        None => None,
    };
    // LOG_LEVEL filters the spans too: the exporter sees only what the log level lets through
    // (the services' spans are at INFO).
    tracing_subscriber::registry()
        .with(logs)
        .with(provider.as_ref().map(otel_layer))
        .with(filter)
        .try_init()
        .map_err(|_| TelemetryError::AlreadyInstalled)?;
    Ok(Telemetry::new(provider))
}

/// The process's Prometheus registry, installed as the global `metrics` recorder on first use.
/// Metrics belong to the process, so the ingress and the worker (and a test that runs both)
/// share this one; each renders it on its `/metrics`.
pub fn prometheus() -> &'static metrics_exporter_prometheus::PrometheusHandle {
    static HANDLE: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> =
        std::sync::OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Fails only when some other recorder was installed first; ours then stays empty.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use suiteflow_settings::Source;

    fn read(pairs: &[(&str, &str)]) -> Result<TelemetryConfig, suiteflow_settings::Problems> {
        let env = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        let source = Source::new(None, env).unwrap();
        let mut r = Reader::new(&source);
        let part = TelemetryConfig::read(&mut r);
        r.finish(|| part)
    }

    #[test]
    fn defaults_are_info_and_json() {
        let c = read(&[]).unwrap();
        assert_eq!(c.log_level, "info");
        assert!(!c.pretty);
        assert!(c.otlp_endpoint.is_none());
        assert!(c.service_name.is_none());
    }

    #[test]
    fn bad_values_are_named() {
        let problems = read(&[
            ("LOG_LEVEL", "info,[[[bad"),
            ("PRETTY_LOGS", "maybe"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "grpc-collector:4317"),
            ("OTEL_SERVICE_NAME", "  "),
        ])
        .unwrap_err();
        for name in [
            "LOG_LEVEL",
            "PRETTY_LOGS",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_SERVICE_NAME",
        ] {
            assert!(problems.names(name), "{name}: {problems:?}");
        }
    }

    #[test]
    fn valid_values_are_kept() {
        let c = read(&[
            ("LOG_LEVEL", "debug,hyper=warn"),
            ("PRETTY_LOGS", "true"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
            ("OTEL_SERVICE_NAME", "suiteflow-worker-eu"),
        ])
        .unwrap();
        assert_eq!(c.service_name.as_deref(), Some("suiteflow-worker-eu"));
        assert_eq!(c.log_level, "debug,hyper=warn");
        assert!(c.pretty);
        assert_eq!(c.otlp_endpoint.unwrap().as_str(), "http://127.0.0.1:4318/");
    }
}
