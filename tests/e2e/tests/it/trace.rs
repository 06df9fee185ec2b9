//! OpenTelemetry: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, the real binaries export
//! their spans over OTLP to a local receiver, and one trace spans the ingress request and the
//! worker's processing of the event it enqueued.

use serde_json::json;
use suiteflow_crypto::SecretString;
use suiteflow_test_support::otlp::{OtlpReceiver, ReceivedSpan};

use crate::processes::Binaries;
use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn one_trace_spans_the_webhook_and_the_worker() {
    let p = Pipeline::start().await;
    let receiver = OtlpReceiver::start().await;
    let mut binaries =
        Binaries::start(&p, &[("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint())]).await;

    let body = json!({"event_type": "record_created", "record_id": "rec_1", "data": {"title": "Lamp", "price": "3"}}).to_string();
    let signature =
        suiteflow_webhook_security::sign_hmac(&SecretString::new(SECRET), body.as_bytes());
    assert_eq!(binaries.push(&p, &body, &signature).await.status(), 202);
    binaries.wait_for_an_item(&p).await;
    // SIGTERM: each process flushes its buffered spans before it exits.
    binaries.stop();

    let spans = receiver.spans();
    let find = |service: &str, name: &str| -> ReceivedSpan {
        spans
            .iter()
            .find(|s| s.service == service && s.name == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name} span from {service} in {spans:#?}"))
    };
    let webhook = find("suiteflow-ingress", "webhook");
    let processed = find("suiteflow-worker", "process_event");
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
    let batch = find("suiteflow-worker", "sync_batch");
    assert!(
        batch
            .links
            .contains(&(processed.trace_id.clone(), processed.span_id.clone())),
        "{batch:#?}"
    );
}
