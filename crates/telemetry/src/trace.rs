//! Traces: OTLP export when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and the W3C trace context
//! that carries one webhook's trace from the ingress, through the queue, into the worker.
//!
//! The ingress stores [`trace_context`] of its request span on the event; the worker makes the
//! span that processes the event a child of it with [`continue_trace`]. Both are no-ops when
//! no OpenTelemetry layer is installed.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider, TracerProviderBuilder};
use serde_json::Value;
use tracing::Subscriber;
use tracing_opentelemetry::{OpenTelemetryLayer, OpenTelemetrySpanExt as _};
use tracing_subscriber::registry::LookupSpan;

use crate::{TelemetryError, TraceSampler};

/// The W3C headers a trace context is made of.
const FIELDS: [&str; 2] = ["traceparent", "tracestate"];

/// The exporter of a process's traces, shut down (flushing what is buffered) on drop. Keep it
/// alive for as long as the process runs.
#[derive(Debug)]
#[must_use = "dropping it stops exporting traces"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    pub(crate) fn new(provider: Option<SdkTracerProvider>) -> Self {
        Self { provider }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("flushing traces at exit failed: {e}");
        }
    }
}

/// An OTLP/HTTP (protobuf) exporter to `endpoint` + `/v1/traces`, as the OTLP specification
/// builds the traces URL from `OTEL_EXPORTER_OTLP_ENDPOINT`, batching in the background the
/// spans of the traces `sampler` keeps.
pub(crate) fn otlp_provider(
    endpoint: &url::Url,
    service: &str,
    sampler: TraceSampler,
) -> Result<SdkTracerProvider, TelemetryError> {
    let traces = format!("{}/v1/traces", endpoint.as_str().trim_end_matches('/'));
    // The exporter's HTTP client is reqwest over rustls, which needs its crypto provider
    // (ring, as everywhere in suiteflow) before any client is built.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(traces)
        .build()
        .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
    Ok(provider_builder(service, sampler)
        .with_batch_exporter(exporter)
        .build())
}

/// A tracer provider for `service` that samples with `sampler`, still without an exporter.
pub(crate) fn provider_builder(service: &str, sampler: TraceSampler) -> TracerProviderBuilder {
    SdkTracerProvider::builder()
        .with_sampler(sdk_sampler(sampler))
        .with_resource(
            Resource::builder()
                .with_service_name(service.to_string())
                .build(),
        )
}

fn sdk_sampler(sampler: TraceSampler) -> Sampler {
    let parent_based = |root: Sampler| Sampler::ParentBased(Box::new(root));
    match sampler {
        TraceSampler::AlwaysOn => Sampler::AlwaysOn,
        TraceSampler::AlwaysOff => Sampler::AlwaysOff,
        TraceSampler::TraceIdRatio(ratio) => Sampler::TraceIdRatioBased(ratio),
        TraceSampler::ParentBasedAlwaysOn => parent_based(Sampler::AlwaysOn),
        TraceSampler::ParentBasedAlwaysOff => parent_based(Sampler::AlwaysOff),
        TraceSampler::ParentBasedTraceIdRatio(ratio) => {
            parent_based(Sampler::TraceIdRatioBased(ratio))
        }
    }
}

/// The `tracing` layer that turns spans into OpenTelemetry spans of `provider`.
pub(crate) fn otel_layer<S>(provider: &SdkTracerProvider) -> OpenTelemetryLayer<S, SdkTracer>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    tracing_opentelemetry::layer().with_tracer(provider.tracer("suiteflow"))
}

/// The W3C trace context of `span` (`{"traceparent": …, "tracestate": …}`), to store with the
/// work it started. `None` when the span is not traced.
pub fn trace_context(span: &tracing::Span) -> Option<Value> {
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return None;
    }
    let mut carrier: HashMap<String, String> = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    let fields: serde_json::Map<String, Value> = carrier
        .into_iter()
        .filter(|(k, v)| FIELDS.contains(&k.as_str()) && !v.is_empty())
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    fields
        .contains_key("traceparent")
        .then_some(Value::Object(fields))
}

/// Makes `span` a child of a stored trace context (from [`trace_context`]). A missing or
/// malformed context leaves `span` as it was.
pub fn continue_trace(span: &tracing::Span, stored: &Value) {
    continue_from(span, |name| stored.get(name).and_then(Value::as_str));
}

/// Makes `span` a child of the `traceparent`/`tracestate` headers of an incoming request, when
/// it carries valid ones.
pub fn continue_from<'a>(span: &tracing::Span, header: impl Fn(&str) -> Option<&'a str>) {
    let carrier: HashMap<String, String> = FIELDS
        .iter()
        .filter_map(|name| header(name).map(|v| ((*name).to_string(), v.to_string())))
        .collect();
    if carrier.is_empty() {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&carrier);
    if parent.span().span_context().is_valid() {
        // Fails only when no OpenTelemetry layer is installed: then there is nothing to join.
        let _ = span.set_parent(parent);
    }
}

/// Links `span` to `other` (a batch span to each event it processed).
pub fn add_link(span: &tracing::Span, other: &tracing::Span) {
    let context = other.context().span().span_context().clone();
    if context.is_valid() {
        span.add_link(context);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt as _;

    fn traced<T>(f: impl FnOnce() -> T) -> T {
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry().with(otel_layer(&provider));
        tracing::subscriber::with_default(subscriber, f)
    }

    fn trace_id(context: &Value) -> &str {
        context["traceparent"]
            .as_str()
            .unwrap()
            .split('-')
            .nth(1)
            .unwrap()
    }

    #[test]
    fn a_stored_context_is_continued_by_a_later_span() {
        traced(|| {
            let request = tracing::info_span!("webhook");
            let stored = trace_context(&request).expect("a traced span has a context");
            assert!(stored["traceparent"].as_str().unwrap().starts_with("00-"));

            let later = tracing::info_span!("process_event");
            continue_trace(&later, &stored);
            let continued = trace_context(&later).unwrap();
            assert_eq!(trace_id(&continued), trace_id(&stored));
            assert_ne!(
                continued["traceparent"], stored["traceparent"],
                "a new span id"
            );
        });
    }

    #[test]
    fn malformed_or_missing_contexts_change_nothing() {
        traced(|| {
            // Inside `outer`, a span belongs to outer's trace; continuing it from a context
            // that is missing or malformed must leave it there (not make it a new root, nor
            // attach it to garbage).
            let outer = tracing::info_span!("outer");
            let _entered = outer.enter();
            let own = trace_context(&outer).unwrap();
            for stored in [
                serde_json::json!({}),
                serde_json::json!({"traceparent": "00-zz-yy-01"}),
                serde_json::json!({"traceparent": "00-00000000000000000000000000000000-0000000000000000-01"}),
                serde_json::json!({"traceparent": 7}),
            ] {
                let span = tracing::info_span!("b");
                continue_trace(&span, &stored);
                let context = trace_context(&span).unwrap();
                assert_eq!(trace_id(&context), trace_id(&own), "{stored}");
            }
        });
    }

    #[test]
    fn without_opentelemetry_there_is_no_context() {
        let span = tracing::info_span!("webhook");
        assert_eq!(trace_context(&span), None);
    }
}
