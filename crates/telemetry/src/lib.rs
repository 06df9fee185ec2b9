#![doc = include_str!("../README.md")]

mod trace;

use opentelemetry_sdk::trace::SdkTracerProvider;
use suiteflow_settings::{Reader, boolean, http_url};
use tracing::Subscriber;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use trace::otel_layer;
pub use trace::{Telemetry, add_link, continue_from, continue_trace, trace_context};

/// The spans (and the events inside them) the exporter receives, whatever `LOG_LEVEL` says:
/// INFO and above, where every span of the services is; DEBUG and TRACE spans, of suiteflow or
/// of its dependencies, are never exported. Which traces are kept is the sampler's.
const EXPORTED: LevelFilter = LevelFilter::INFO;

/// The telemetry settings part: `LOG_LEVEL`, `PRETTY_LOGS`, `OTEL_EXPORTER_OTLP_ENDPOINT`,
/// `OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`.
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
    /// Which traces are exported.
    pub sampler: TraceSampler,
}

/// Which traces are recorded and exported: `OTEL_TRACES_SAMPLER`, with the ratio of the
/// `traceidratio` samplers in `OTEL_TRACES_SAMPLER_ARG`, as the OpenTelemetry specification
/// names them. The `parentbased_` samplers follow the sampled flag of an incoming
/// `traceparent` (and of the trace context stored on an event) and apply the rest to new
/// traces only.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum TraceSampler {
    AlwaysOn,
    AlwaysOff,
    /// Each new trace with this probability (0.0 to 1.0), decided from its trace id.
    TraceIdRatio(f64),
    /// New traces all, the others as their parent was sampled: the default.
    #[default]
    ParentBasedAlwaysOn,
    ParentBasedAlwaysOff,
    ParentBasedTraceIdRatio(f64),
}

/// The sampler `OTEL_TRACES_SAMPLER` names, with `ratio` (`OTEL_TRACES_SAMPLER_ARG`, 1.0 when
/// absent, as the specification has it) for the ratio samplers; the others ignore it.
fn sampler(raw: &str, ratio: f64) -> Result<TraceSampler, String> {
    Ok(match raw.trim().to_ascii_lowercase().as_str() {
        "always_on" => TraceSampler::AlwaysOn,
        "always_off" => TraceSampler::AlwaysOff,
        "traceidratio" => TraceSampler::TraceIdRatio(ratio),
        "parentbased_always_on" => TraceSampler::ParentBasedAlwaysOn,
        "parentbased_always_off" => TraceSampler::ParentBasedAlwaysOff,
        "parentbased_traceidratio" => TraceSampler::ParentBasedTraceIdRatio(ratio),
        _ => {
            return Err("must be one of always_on, always_off, traceidratio, \
                 parentbased_always_on, parentbased_always_off, parentbased_traceidratio"
                .into());
        }
    })
}

fn sampler_ratio(raw: &str) -> Result<f64, String> {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|ratio| (0.0..=1.0).contains(ratio))
        .ok_or_else(|| "must be a sampling ratio from 0 to 1, such as 0.25".into())
}

impl TelemetryConfig {
    pub fn read(r: &mut Reader<'_>) -> Option<Self> {
        let log_level = r.with_default("LOG_LEVEL", "info".to_string(), parse_filter);
        let pretty = r.with_default("PRETTY_LOGS", false, boolean);
        let otlp_endpoint = r.optional("OTEL_EXPORTER_OTLP_ENDPOINT", http_url);
        let service_name = r.optional("OTEL_SERVICE_NAME", service_name);
        let ratio = r.with_default("OTEL_TRACES_SAMPLER_ARG", 1.0, sampler_ratio);
        // A bad ratio is reported on its own; the name is still checked.
        let sampler = r.with_default("OTEL_TRACES_SAMPLER", TraceSampler::default(), |raw| {
            sampler(raw, ratio.unwrap_or(1.0))
        });
        Some(Self {
            log_level: log_level?,
            pretty: pretty?,
            otlp_endpoint: otlp_endpoint?,
            service_name: service_name?,
            sampler: ratio.and(sampler)?,
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
/// is dropped: the spans at INFO and above whatever `LOG_LEVEL` is, of the traces
/// `OTEL_TRACES_SAMPLER` keeps. Libraries only emit spans and events; binaries call this once.
pub fn init(config: &TelemetryConfig, service: &'static str) -> Result<Telemetry, TelemetryError> {
    let provider = match &config.otlp_endpoint {
        Some(endpoint) => {
            let service = config.service_name.as_deref().unwrap_or(service);
            Some(trace::otlp_provider(endpoint, service, config.sampler)?)
        }
        None => None,
    };
    subscriber(config, std::io::stderr, provider.as_ref())
        .try_init()
        .map_err(|_| TelemetryError::AlreadyInstalled)?;
    Ok(Telemetry::new(provider))
}

/// The subscriber [`init`] installs, writing its log lines to `writer`. The log layer and the
/// OpenTelemetry layer each have their own filter: `LOG_LEVEL` decides which lines are written,
/// [`EXPORTED`] which spans reach the exporter, and a span either one wants is recorded for it
/// alone (the subscriber's level hint is the more verbose of the two, so a strict `LOG_LEVEL`
/// does not skip the exported spans at their call sites).
fn subscriber<W>(
    config: &TelemetryConfig,
    writer: W,
    provider: Option<&SdkTracerProvider>,
) -> impl Subscriber + Send + Sync + use<W>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(&config.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let logs: Box<dyn Layer<Registry> + Send + Sync> = if config.pretty {
        tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_writer(writer)
            .with_filter(filter)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_span_events(FmtSpan::NONE)
            .with_writer(writer)
            .with_filter(filter)
            .boxed()
    };
    tracing_subscriber::registry()
        .with(logs)
        .with(provider.map(|provider| otel_layer(provider).with_filter(EXPORTED)))
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
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::trace::{SpanData, SpanProcessor};
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
        assert_eq!(c.sampler, TraceSampler::ParentBasedAlwaysOn);
    }

    #[test]
    fn bad_values_are_named() {
        let problems = read(&[
            ("LOG_LEVEL", "info,[[[bad"),
            ("PRETTY_LOGS", "maybe"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "grpc-collector:4317"),
            ("OTEL_SERVICE_NAME", "  "),
            ("OTEL_TRACES_SAMPLER", "jaeger_remote"),
            ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
        ])
        .unwrap_err();
        for name in [
            "LOG_LEVEL",
            "PRETTY_LOGS",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_SERVICE_NAME",
            "OTEL_TRACES_SAMPLER",
            "OTEL_TRACES_SAMPLER_ARG",
        ] {
            assert!(problems.names(name), "{name}: {problems:?}");
        }
        for ratio in ["half", "-0.1", "NaN", "0,5"] {
            let problems = read(&[
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", ratio),
            ])
            .unwrap_err();
            assert!(problems.names("OTEL_TRACES_SAMPLER_ARG"), "{ratio}");
            assert!(!problems.names("OTEL_TRACES_SAMPLER"), "{ratio}");
        }
    }

    #[test]
    fn samplers_are_read_as_the_specification_names_them() {
        for (pairs, expected) in [
            (
                vec![
                    ("OTEL_TRACES_SAMPLER", "traceidratio"),
                    ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
                ],
                TraceSampler::TraceIdRatio(0.25),
            ),
            (
                // Without its argument a ratio sampler keeps every trace.
                vec![("OTEL_TRACES_SAMPLER", "ParentBased_TraceIdRatio")],
                TraceSampler::ParentBasedTraceIdRatio(1.0),
            ),
            (
                vec![
                    ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
                    ("OTEL_TRACES_SAMPLER_ARG", "0"),
                ],
                TraceSampler::ParentBasedTraceIdRatio(0.0),
            ),
            (
                // The other samplers take no argument.
                vec![
                    ("OTEL_TRACES_SAMPLER", "always_off"),
                    ("OTEL_TRACES_SAMPLER_ARG", "0.5"),
                ],
                TraceSampler::AlwaysOff,
            ),
            (
                vec![("OTEL_TRACES_SAMPLER", "always_on")],
                TraceSampler::AlwaysOn,
            ),
            (
                vec![("OTEL_TRACES_SAMPLER", "parentbased_always_off")],
                TraceSampler::ParentBasedAlwaysOff,
            ),
            (
                vec![("OTEL_TRACES_SAMPLER", "parentbased_always_on")],
                TraceSampler::ParentBasedAlwaysOn,
            ),
        ] {
            let c = read(&pairs).unwrap_or_else(|p| panic!("{pairs:?}: {p}"));
            assert_eq!(c.sampler, expected, "{pairs:?}");
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

    /// The names of the spans a tracer provider ended, in order.
    #[derive(Debug, Clone, Default)]
    struct Ended(Arc<Mutex<Vec<String>>>);

    impl Ended {
        fn names(&self) -> Vec<String> {
            self.0.lock().unwrap().clone()
        }
    }

    impl SpanProcessor for Ended {
        fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}
        fn on_end(&self, span: SpanData) {
            self.0.lock().unwrap().push(span.name.into_owned());
        }
        fn force_flush(&self) -> OTelSdkResult {
            Ok(())
        }
        fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
            Ok(())
        }
    }

    /// What the log layer writes.
    #[derive(Debug, Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Lines {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Lines {
        type Writer = Lines;
        fn make_writer(&'w self) -> Lines {
            self.clone()
        }
    }

    fn config(log_level: &str) -> TelemetryConfig {
        TelemetryConfig {
            log_level: log_level.into(),
            pretty: false,
            otlp_endpoint: None,
            service_name: None,
            sampler: TraceSampler::default(),
        }
    }

    /// Runs `f` under the subscriber `init` would install for `config`, with an exporter that
    /// samples with `sampler`: the spans it exported and the lines it logged.
    fn run(
        config: &TelemetryConfig,
        sampler: TraceSampler,
        f: impl FnOnce(),
    ) -> (Vec<String>, String) {
        let ended = Ended::default();
        let provider = trace::provider_builder("suiteflow-test", sampler)
            .with_span_processor(ended.clone())
            .build();
        let lines = Lines::default();
        tracing::subscriber::with_default(subscriber(config, lines.clone(), Some(&provider)), f);
        (ended.names(), lines.text())
    }

    fn request() {
        let span = tracing::info_span!("webhook");
        let _entered = span.enter();
        tracing::info!("webhook accepted");
        tracing::debug!("webhook detail");
        tracing::error!("webhook refused");
        let _detail = tracing::debug_span!("dependency_detail").entered();
    }

    #[test]
    fn a_log_level_stricter_than_info_still_exports_the_spans() {
        let (exported, logs) = run(&config("error"), TraceSampler::default(), request);
        assert_eq!(exported, ["webhook"]);
        assert!(logs.contains("webhook refused"), "{logs}");
        assert!(!logs.contains("webhook accepted"), "{logs}");
        assert!(!logs.contains("INFO"), "{logs}");
    }

    #[test]
    fn the_log_level_filters_the_lines_and_never_widens_the_export() {
        let (exported, logs) = run(&config("debug"), TraceSampler::default(), request);
        assert_eq!(exported, ["webhook"], "a DEBUG span is never exported");
        for line in ["webhook accepted", "webhook detail", "webhook refused"] {
            assert!(logs.contains(line), "{line}: {logs}");
        }

        let (exported, logs) = run(&config("warn"), TraceSampler::default(), request);
        assert_eq!(exported, ["webhook"]);
        assert!(
            !logs.contains("webhook accepted") && !logs.contains("webhook detail"),
            "{logs}"
        );
    }

    #[test]
    fn the_sampler_decides_which_traces_are_exported() {
        for sampler in [TraceSampler::AlwaysOff, TraceSampler::TraceIdRatio(0.0)] {
            let (exported, logs) = run(&config("info"), sampler, request);
            assert_eq!(exported, Vec::<String>::new(), "{sampler:?}");
            assert!(logs.contains("webhook accepted"), "{sampler:?}: {logs}");
        }
        let (exported, _) = run(&config("info"), TraceSampler::AlwaysOn, request);
        assert_eq!(exported, ["webhook"]);
    }

    #[test]
    fn the_level_hint_is_the_more_verbose_of_the_two_filters() {
        // The call sites of INFO spans are skipped outright when the hint is below INFO.
        let provider = SdkTracerProvider::builder().build();
        let exporting = subscriber(&config("error"), Lines::default(), Some(&provider));
        assert_eq!(exporting.max_level_hint(), Some(LevelFilter::INFO));
        let logging = subscriber(&config("error"), Lines::default(), None);
        assert_eq!(logging.max_level_hint(), Some(LevelFilter::ERROR));
        let verbose = subscriber(&config("trace"), Lines::default(), Some(&provider));
        assert_eq!(verbose.max_level_hint(), Some(LevelFilter::TRACE));
    }
}
