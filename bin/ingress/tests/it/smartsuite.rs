//! `POST /api/hooks/smartsuite/{connection_id}/{token}`: SmartSuite's notification ping.

use serde_json::json;
use suiteflow_store::{EventKind, EventStatus};

use crate::support::*;

const WEBHOOK_ID: &str = "2f7cc6e0-b709-4b04-964a-3706c89c78e3";
const TOKEN: &str = "u7Rk2vQ9sXw4LmN8pZt3";

fn ping(webhook_id: &str) -> String {
    json!({"webhookId": webhook_id, "locator": {"accountId": "snbvtl79", "solutionId": "63b87cad645b3949631b55bf"}})
        .to_string()
}

async fn pending_pulls(app: &TestApp) -> usize {
    let events = suiteflow_test_support::rows::all_events(&mut app.db().await).await;
    events
        .iter()
        .filter(|e| e.kind == EventKind::Pull && e.status == EventStatus::Queued)
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_pings_leave_one_pending_pull_and_answer_200_empty() {
    let app = TestApp::spawn().await;
    let id = app.hmac_connection().await;
    app.register_smartsuite(id, WEBHOOK_ID, TOKEN).await;
    let url = app.url(&format!("/api/hooks/smartsuite/{}/{TOKEN}", id.0));
    for _ in 0..2 {
        let response = app
            .http
            .post(&url)
            .body(ping(WEBHOOK_ID))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.bytes().await.unwrap().is_empty());
    }
    assert_eq!(pending_pulls(&app).await, 1);
    assert_eq!(app.event_count().await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_token_or_unknown_webhook_is_401_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let id = app.hmac_connection().await;
    app.register_smartsuite(id, WEBHOOK_ID, TOKEN).await;
    let wrong_token = app.url(&format!("/api/hooks/smartsuite/{}/not-the-token", id.0));
    let response = app
        .http
        .post(&wrong_token)
        .body(ping(WEBHOOK_ID))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let right_token = app.url(&format!("/api/hooks/smartsuite/{}/{TOKEN}", id.0));
    for body in [
        ping("00000000-0000-0000-0000-000000000000"),
        json!({"locator": {}}).to_string(),
    ] {
        let response = app.http.post(&right_token).body(body).send().await.unwrap();
        assert_eq!(response.status(), 401);
    }
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_without_a_registered_webhook_refuses_pings() {
    let app = TestApp::spawn().await;
    let id = app.hmac_connection().await;
    let url = app.url(&format!("/api/hooks/smartsuite/{}/{TOKEN}", id.0));
    let response = app
        .http
        .post(&url)
        .body(ping(WEBHOOK_ID))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let unknown = app.url(&format!(
        "/api/hooks/smartsuite/{}/{TOKEN}",
        uuid::Uuid::new_v4()
    ));
    assert_eq!(
        app.http
            .post(&unknown)
            .body(ping(WEBHOOK_ID))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(app.event_count().await, 0);
}
