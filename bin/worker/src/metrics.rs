//! Prometheus metrics of the worker, served with `/healthz` on `WORKER_METRICS_ADDR`.

use std::net::SocketAddr;
use std::sync::Once;

use actix_web::{App, HttpResponse, HttpServer, web};
use metrics_exporter_prometheus::PrometheusHandle;

/// The process's metrics registry (shared with anything else in the process), with the
/// worker's metrics described once. `worker_webflow_requests_total`,
/// `worker_rate_limit_waits_total`, `smartsuite_requests_total` and
/// `smartsuite_calls_this_month` are kept by the sync engine's budgets.
pub fn handle() -> &'static PrometheusHandle {
    static DESCRIBED: Once = Once::new();
    let handle = suiteflow_telemetry::prometheus();
    DESCRIBED.call_once(|| {
        metrics::describe_counter!("worker_events_total", "Events finished, by outcome");
        metrics::describe_counter!(
            "worker_events_claimed_total",
            "Events claimed (leased for processing)"
        );
        metrics::describe_histogram!(
            "worker_event_duration_seconds",
            "Queued to finished, per event"
        );
        metrics::describe_gauge!(
            "worker_queue_depth",
            "Events waiting (queued or failed) on active connections"
        );
        metrics::describe_gauge!(
            "worker_oldest_event_age_seconds",
            "Age of the oldest waiting event"
        );
        metrics::describe_counter!("worker_webflow_requests_total", "Webflow calls made");
        metrics::describe_gauge!("worker_connections", "Connections by status");
        metrics::describe_counter!(
            "worker_rate_limit_waits_total",
            "Batches rescheduled by a rate limit, by API"
        );
        metrics::describe_counter!(
            "smartsuite_requests_total",
            "SmartSuite calls made, by kind of call"
        );
        metrics::describe_gauge!(
            "smartsuite_calls_this_month",
            "SmartSuite calls this month (UTC) by every replica, per API key"
        );
        metrics::describe_gauge!(
            "smartsuite_webhook_status",
            "Connections (not archived) by what the last check of their SmartSuite webhook found"
        );
        metrics::describe_gauge!(
            "smartsuite_webhook_oldest_read_seconds",
            "The longest any SmartSuite webhook has gone without a ListEvents (keep-alive or pull)"
        );
        metrics::describe_counter!(
            "smartsuite_webhook_checks_total",
            "SmartSuite webhook checks, by what they left the webhook as"
        );
        metrics::describe_gauge!(
            "smartsuite_monthly_quota",
            "SMARTSUITE_MONTHLY_QUOTA: the plan's SmartSuite calls per month"
        );
    });
    handle
}

/// The value of one counter series in this process's registry, as `/metrics` shows it
/// (`worker_events_total{outcome="skipped"}`); 0 until it is first counted. For benchmarks
/// and tests that run a worker in their own process.
pub fn counted(series: &str) -> u64 {
    let prefix = format!("{series} ");
    handle()
        .render()
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map_or(0, |n| n.trim().parse().unwrap_or(0))
}

/// `SMARTSUITE_MONTHLY_QUOTA`, when set, for the quota alert.
pub fn monthly_quota(quota: Option<u64>) {
    if let Some(quota) = quota {
        metrics::gauge!("smartsuite_monthly_quota").set(quota as f64);
    }
}

pub fn event(outcome: &'static str) {
    metrics::counter!("worker_events_total", "outcome" => outcome).increment(1);
}

pub fn claimed(events: usize) {
    metrics::counter!("worker_events_claimed_total").increment(events as u64);
}

pub fn event_duration(seconds: f64) {
    metrics::histogram!("worker_event_duration_seconds").record(seconds);
}

pub fn connections(status: &'static str, count: i64) {
    metrics::gauge!("worker_connections", "status" => status).set(count as f64);
}

pub fn webhooks(health: &suiteflow_store::WebhookHealth) {
    for (status, count) in &health.by_status {
        metrics::gauge!("smartsuite_webhook_status", "status" => status.as_str())
            .set(*count as f64);
    }
    metrics::gauge!("smartsuite_webhook_oldest_read_seconds")
        .set(health.oldest_read.map_or(0.0, |d| d.as_secs_f64()));
}

pub fn queue(depth: i64, oldest_secs: f64) {
    metrics::gauge!("worker_queue_depth").set(depth as f64);
    metrics::gauge!("worker_oldest_event_age_seconds").set(oldest_secs);
}

/// Serves `/metrics` and `/healthz` until the returned server is stopped.
pub fn serve(addr: SocketAddr) -> std::io::Result<(actix_web::dev::Server, SocketAddr)> {
    handle();
    let listener = std::net::TcpListener::bind(addr)?;
    let bound = listener.local_addr()?;
    let server = HttpServer::new(|| {
        App::new()
            .wrap(suiteflow_web::security_headers(false))
            .route(
                "/metrics",
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .content_type("text/plain; version=0.0.4")
                        .body(handle().render())
                }),
            )
            .route(
                "/healthz",
                web::get()
                    .to(|| async { HttpResponse::Ok().json(serde_json::json!({"status": "ok"})) }),
            )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    Ok((server, bound))
}
