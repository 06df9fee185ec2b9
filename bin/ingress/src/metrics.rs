//! Prometheus metrics of the ingress (`GET /metrics`).

use std::sync::Once;

use actix_web::{HttpResponse, ResponseError as _};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::error::ApiError;

/// The process's metrics registry. Metrics belong to the process, so there is one recorder,
/// installed on first use.
pub fn handle() -> &'static PrometheusHandle {
    static DESCRIBED: Once = Once::new();
    let handle = suiteflow_telemetry::prometheus();
    DESCRIBED.call_once(|| {
        describe();
    });
    handle
}

fn describe() {
    metrics::describe_counter!(
        "ingress_requests_total",
        "Webhook requests by route and HTTP status"
    );
    metrics::describe_counter!(
        "ingress_rejections_total",
        "Webhook requests refused, by route and reason"
    );
    metrics::describe_histogram!(
        "ingress_commit_batch_size",
        "Events inserted per group-commit statement"
    );
}

/// Counts one webhook request and, when refused, its reason.
pub fn record(route: &'static str, outcome: &Result<HttpResponse, ApiError>) {
    let status = match outcome {
        Ok(response) => response.status().as_u16(),
        Err(error) => {
            metrics::counter!("ingress_rejections_total", "route" => route, "reason" => error.reason())
                .increment(1);
            error.status_code().as_u16()
        }
    };
    metrics::counter!("ingress_requests_total", "route" => route, "status" => status.to_string())
        .increment(1);
}

/// `GET /metrics`.
pub async fn render() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(handle().render())
}
