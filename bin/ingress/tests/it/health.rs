//! `/api/health`, `/healthz`, `/readyz`, `/metrics`, and a graceful stop on SIGTERM.

use std::process::{Command, Stdio};
use std::time::Duration;

use suiteflow_test_support::process::{free_port, terminate};

use serde_json::Value;

use suiteflow_test_support::http::assert_security_headers;

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
    assert!(checks["workerLastRun"].is_null(), "no worker ever ran");
    assert_eq!(checks["connections"]["active"], 1);

    // workerLastRun is the newest heartbeat of any worker, idle ones included.
    let long_ago = time::OffsetDateTime::now_utc() - time::Duration::hours(3);
    for (id, batch) in [("w-busy", Some((5, long_ago))), ("w-idle", None)] {
        let beat = suiteflow_store::Beat {
            id,
            host: "node-1",
            started_at: long_ago,
            batch,
        };
        suiteflow_store::heartbeat(&mut app.db().await, &beat)
            .await
            .unwrap();
    }
    // The busy one was last seen an hour ago; the idle one just now is the newest.
    suiteflow_test_support::rows::age_worker(
        &mut app.db().await,
        "w-busy",
        time::Duration::hours(1),
    )
    .await;
    let idle = suiteflow_store::running_workers(&mut app.db().await)
        .await
        .unwrap()
        .into_iter()
        .find(|w| w.id == "w-idle")
        .expect("the idle worker's row");
    let body: Value = app
        .http
        .get(app.url("/api/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reported = time::OffsetDateTime::parse(
        body["checks"]["workerLastRun"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(reported, idle.last_seen_at);
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

#[tokio::test(flavor = "multi_thread")]
async fn every_response_carries_the_security_headers_and_hsts_only_over_https() {
    let app = TestApp::spawn().await;
    let id = app.hmac_connection().await;
    let accepted = app.push_hmac(id, r#"{"record_id":"a"}"#, &[]).await;
    assert_eq!(accepted.status(), 202);
    assert_security_headers(&accepted, false);
    let refused = app
        .http
        .post(app.url(&format!("/api/hooks/{}", id.0)))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_security_headers(&refused, false);
    let missing = app.http.get(app.url("/nowhere")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_security_headers(&missing, false);

    let secure = TestApp::spawn_with(&[("APP_URL", "https://sync.example.com")]).await;
    for path in ["/healthz", "/api/health", "/nowhere"] {
        let response = secure.http.get(secure.url(path)).send().await.unwrap();
        assert_security_headers(&response, true);
    }
}
