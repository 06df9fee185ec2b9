//! OpenTelemetry: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, the real binaries export
//! their spans over OTLP to a local receiver, and one trace spans the ingress request and the
//! worker's processing of the event it enqueued. `LOG_LEVEL` decides what is logged and
//! `OTEL_TRACES_SAMPLER` what is exported, each without the other.

use serde_json::json;
use suiteflow_crypto::SecretString;
use suiteflow_test_support::otlp::{OtlpReceiver, ReceivedSpan};

use crate::processes::Binaries;
use crate::support::*;

/// Runs one webhook through both binaries, exporting to a local receiver, with `extra`
/// settings: the spans exported and the lines logged.
async fn one_webhook(extra: &[(&str, &str)]) -> (Vec<ReceivedSpan>, String) {
    let p = Pipeline::start().await;
    let receiver = OtlpReceiver::start().await;
    let mut settings = vec![("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint())];
    settings.extend(extra.iter().map(|(k, v)| (*k, (*v).to_string())));
    let mut binaries = Binaries::start(&p, &settings).await;

    let body = json!({"event_type": "record_created", "record_id": "rec_1", "data": {"title": "Lamp", "price": "3"}}).to_string();
    let signature =
        suiteflow_webhook_security::sign_hmac(&SecretString::new(SECRET), body.as_bytes());
    assert_eq!(binaries.push(&p, &body, &signature).await.status(), 202);
    binaries.wait_for_an_item(&p).await;
    // SIGTERM: each process flushes its buffered spans before it exits.
    binaries.stop();
    (receiver.spans(), binaries.logs())
}

fn find(spans: &[ReceivedSpan], service: &str, name: &str) -> ReceivedSpan {
    spans
        .iter()
        .find(|s| s.service == service && s.name == name)
        .cloned()
        .unwrap_or_else(|| panic!("no {name} span from {service} in {spans:#?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn one_trace_spans_the_webhook_and_the_worker() {
    let (spans, _) = one_webhook(&[]).await;
    let webhook = find(&spans, "suiteflow-ingress", "webhook");
    let processed = find(&spans, "suiteflow-worker", "process_event");
    assert_eq!(webhook.trace_id.len(), 32);
    assert_ne!(webhook.trace_id, "0".repeat(32));
    assert_eq!(
        processed.trace_id, webhook.trace_id,
        "the worker continues the ingress request's trace"
    );
    assert_eq!(
        processed.parent_span_id, webhook.span_id,
        "the worker's span is a child of the request's span"
    );
    // The bulk write is linked to the event it carried.
    let batch = find(&spans, "suiteflow-worker", "sync_batch");
    assert!(
        batch
            .links
            .contains(&(processed.trace_id.clone(), processed.span_id.clone())),
        "{batch:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_log_level_stricter_than_info_still_exports_the_traces() {
    let (spans, logs) = one_webhook(&[("LOG_LEVEL", "warn")]).await;
    let webhook = find(&spans, "suiteflow-ingress", "webhook");
    let processed = find(&spans, "suiteflow-worker", "process_event");
    find(&spans, "suiteflow-worker", "sync_batch");
    assert_eq!(processed.trace_id, webhook.trace_id);
    // The log lines still follow LOG_LEVEL: none of the INFO lines a webhook writes.
    for line in ["webhook accepted", "event processed", "\"level\":\"INFO\""] {
        assert!(
            !logs.contains(line),
            "{line} logged at LOG_LEVEL=warn:\n{logs}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sampler_decides_what_is_exported_and_the_log_level_what_is_logged() {
    let (spans, logs) = one_webhook(&[("OTEL_TRACES_SAMPLER", "always_off")]).await;
    assert!(spans.is_empty(), "exported with always_off: {spans:#?}");
    for line in ["webhook accepted", "event processed"] {
        assert!(logs.contains(line), "{line} not logged:\n{logs}");
    }
}
