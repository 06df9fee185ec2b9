//! `/api/health`, `/healthz`, `/readyz`, `/metrics`, and a graceful stop on SIGTERM.

use std::process::{Command, Stdio};
use std::time::Duration;

use suiteflow_test_support::process::{free_port, terminate};

use serde_json::Value;

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn health_reports_status_database_queue_workers_and_connections() {
    let app = TestApp::spawn().await;
    let id = app.hmac_connection().await;
    assert_eq!(
        app.push_hmac(id, r#"{"record_id":"a"}"#, &[])
            .await
            .status(),
        202
    );
    let response = app.http.get(app.url("/api/health")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "healthy");
    assert!(body["timestamp"].is_string());
    let checks = &body["checks"];
    assert_eq!(checks["database"], "connected");
    assert_eq!(checks["queueDepth"], 1);
    assert!(checks["oldestEventAge"].as_u64().is_some());
    assert!(checks["workerLastRun"].is_null());
    assert_eq!(checks["connections"]["active"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn liveness_readiness_and_metrics_answer() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.http
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        app.http
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let missing = format!("/api/hooks/{}", uuid::Uuid::new_v4());
    assert_eq!(
        app.http
            .post(app.url(&missing))
            .body("{}")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let metrics = app.metrics().await;
    assert!(metrics.contains("ingress_requests_total"), "{metrics}");
    assert!(
        metrics.contains(r#"reason="connection_not_found""#),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_the_process_cleanly() {
    let db = suiteflow_test_support::TestDb::new().await;
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ingress"))
        .env_clear()
        .env("DATABASE_URL", db.url())
        .env("DATA_ENCRYPTION_KEY", KEY)
        .env("INGRESS_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = client();
    let up = eventually(Duration::from_secs(10), async || {
        client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .is_ok()
    })
    .await;
    assert!(up, "ingress did not come up");
    let status = terminate(&mut child, Duration::from_secs(10))
        .expect("ingress did not stop within 10 s of SIGTERM");
    assert!(status.success(), "{status:?}");
}
