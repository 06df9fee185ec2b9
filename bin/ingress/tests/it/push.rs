//! `POST /api/hooks/{connection_id}`: one test per row of the ingress's answer table
//! (docs/architecture.md, "The ingress").

use std::process::Command;

use serde_json::Value;
use suiteflow_crypto::SecretString;
use suiteflow_store::{ConnectionStatus, WebhookScheme};

use crate::support::*;

const BODY: &str =
    r#"{"event_type":"record_updated","record_id":"rec_1","data":{"title":"Chair"}}"#;

async fn json(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_valid_hmac_push_is_accepted_with_one_row() {
    let app = TestApp::spawn().await;
    let id = app.hmac_connection().await;
    let response = app
        .push_hmac(id, BODY, &[("x-smartsuite-timestamp", now().to_string())])
        .await;
    assert_eq!(response.status(), 202);
    let body = json(response).await;
    assert_eq!(body["status"], "queued");
    let event_id: uuid::Uuid = body["eventId"].as_str().unwrap().parse().unwrap();
    assert_eq!(app.event_count().await, 1);
    let event =
        suiteflow_store::queue::get_event(&mut app.db().await, suiteflow_store::EventId(event_id))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(event.external_id, "rec_1");
    assert_eq!(event.event_type, "record_updated");
    assert_eq!(event.payload["data"]["title"], "Chair");
    assert!(event.webhook_timestamp.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bare_hex_signature_is_accepted() {
    let app = TestApp::spawn().await;
    let id = app.hmac_connection().await;
    let bare = sign(BODY).trim_start_matches("sha256=").to_string();
    let response = app
        .http
        .post(app.url(&format!("/api/hooks/{}", id.0)))
        .header("x-smartsuite-signature", bare)
        .body(BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(app.event_count().await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_or_missing_signature_is_401_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let id = app.hmac_connection().await;
    let url = app.url(&format!("/api/hooks/{}", id.0));
    let other = suiteflow_webhook_security::sign_hmac(
        &SecretString::new("another-secret"),
        BODY.as_bytes(),
    );
    for signature in [
        Some(other),
        Some("sha256=zz".to_string()),
        Some(String::new()),
        None,
    ] {
        let mut request = app.http.post(&url).body(BODY);
        if let Some(signature) = signature {
            request = request.header("x-smartsuite-signature", signature);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(json(response).await["error"], "Invalid signature");
    }
    // A body changed after signing.
    let response = app
        .http
        .post(&url)
        .header("x-smartsuite-signature", sign(BODY))
        .body(BODY.replace("Chair", "Chain"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn timestamps_outside_the_window_are_401() {
    let app = TestApp::spawn().await;
    let id = app.hmac_connection().await;
    for offset in [-301, 31] {
        // Just after a second starts, so the server's clock reads the same second as ours
        // when it checks (else 31 s ahead could become 30 s, inside the window).
        start_of_a_second().await;
        let stamp = now() + offset;
        let response = app
            .push_hmac(id, BODY, &[("x-smartsuite-timestamp", stamp.to_string())])
            .await;
        assert_eq!(response.status(), 401, "timestamp {stamp}");
        assert_eq!(json(response).await["error"], "Invalid timestamp");
    }
    let response = app
        .push_hmac(id, BODY, &[("x-smartsuite-timestamp", "0".to_string())])
        .await;
    assert_eq!(response.status(), 401, "timestamp 0");
    assert_eq!(json(response).await["error"], "Invalid timestamp");
    let response = app
        .push_hmac(
            id,
            BODY,
            &[("x-smartsuite-timestamp", "yesterday".to_string())],
        )
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(app.event_count().await, 0);
    // Inside the window, both ways.
    for stamp in [now() - 290, now() + 20] {
        let response = app
            .push_hmac(id, BODY, &[("x-smartsuite-timestamp", stamp.to_string())])
            .await;
        assert_eq!(response.status(), 202, "timestamp {stamp}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_duplicate_key_is_409_with_the_original_id() {
    let app = TestApp::spawn().await;
    let id = app.hmac_connection().await;
    let key = [("x-idempotency-key", "delivery-42".to_string())];
    let first = json(app.push_hmac(id, BODY, &key).await).await;
    let second = app.push_hmac(id, BODY, &key).await;
    assert_eq!(second.status(), 409);
    let second = json(second).await;
    assert_eq!(second["error"], "Duplicate event");
    assert_eq!(second["eventId"], first["eventId"]);
    assert_eq!(app.event_count().await, 1);

    // Without a key: the same timestamp and record is a duplicate, another timestamp is not.
    let stamp = [("x-smartsuite-timestamp", now().to_string())];
    let other = BODY.replace("rec_1", "rec_2");
    assert_eq!(app.push_hmac(id, &other, &stamp).await.status(), 202);
    assert_eq!(app.push_hmac(id, &other, &stamp).await.status(), 409);
    let later = [("x-smartsuite-timestamp", (now() + 5).to_string())];
    assert_eq!(app.push_hmac(id, &other, &later).await.status(), 202);
    assert_eq!(app.event_count().await, 3);
}

async fn push_standard(
    app: &TestApp,
    id: suiteflow_store::ConnectionId,
    msg_id: &str,
    body: &str,
) -> reqwest::Response {
    let stamp = now();
    let signature = suiteflow_webhook_security::sign_standard(
        &SecretString::new(STANDARD_SECRET),
        msg_id,
        stamp,
        body.as_bytes(),
    )
    .unwrap();
    app.http
        .post(app.url(&format!("/api/hooks/{}", id.0)))
        .header("webhook-id", msg_id)
        .header("webhook-timestamp", stamp.to_string())
        .header("webhook-signature", signature)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_valid_standard_push_is_202_and_its_duplicate_200() {
    let app = TestApp::spawn().await;
    let id = app
        .connection(
            WebhookScheme::Standard,
            STANDARD_SECRET,
            ConnectionStatus::Active,
        )
        .await;
    let first = push_standard(&app, id, "msg_1", BODY).await;
    assert_eq!(first.status(), 202);
    let first = json(first).await;
    let again = push_standard(&app, id, "msg_1", BODY).await;
    assert_eq!(again.status(), 200);
    let again = json(again).await;
    assert_eq!(again["eventId"], first["eventId"]);
    assert_eq!(again["duplicate"], true);
    assert_eq!(app.event_count().await, 1);
    // An hmac signature does not open a standard connection.
    assert_eq!(app.push_hmac(id, BODY, &[]).await.status(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signature_made_by_the_standardwebhooks_package_is_accepted() {
    let app = TestApp::spawn().await;
    let id = app
        .connection(
            WebhookScheme::Standard,
            STANDARD_SECRET,
            ConnectionStatus::Active,
        )
        .await;
    let stamp = now();
    // The reference Python implementation (PyPI `standardwebhooks`, installed by .ci/run).
    let script = format!(
        "import sys, datetime\n\
         from standardwebhooks.webhooks import Webhook\n\
         ts = datetime.datetime.fromtimestamp({stamp}, tz=datetime.timezone.utc)\n\
         sys.stdout.write(Webhook({STANDARD_SECRET:?}).sign('msg_py', ts, sys.stdin.read()))"
    );
    let mut child = Command::new("python3")
        .args(["-c", &script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 is needed for this test");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(BODY.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the standardwebhooks package is needed (pip install standardwebhooks): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let signature = String::from_utf8(output.stdout).unwrap();
    let response = app
        .http
        .post(app.url(&format!("/api/hooks/{}", id.0)))
        .header("webhook-id", "msg_py")
        .header("webhook-timestamp", stamp.to_string())
        .header("webhook-signature", signature)
        .body(BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(app.event_count().await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_and_malformed_connections_are_404() {
    let app = TestApp::spawn().await;
    for path in [
        format!("/api/hooks/{}", uuid::Uuid::new_v4()),
        "/api/hooks/not-a-uuid".into(),
        "/api/hooks/1%27%20OR%201=1".into(),
    ] {
        let response = app
            .http
            .post(app.url(&path))
            .header("x-smartsuite-signature", sign(BODY))
            .body(BODY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(json(response).await["error"], "Connection not found");
    }
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_connection_is_403() {
    let app = TestApp::spawn().await;
    let id = app
        .connection(WebhookScheme::Hmac, HMAC_SECRET, ConnectionStatus::Paused)
        .await;
    let response = app.push_hmac(id, BODY, &[]).await;
    assert_eq!(response.status(), 403);
    assert_eq!(json(response).await["error"], "Connection not active");
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_bodies_are_400_saying_what_is_wrong() {
    let app = TestApp::spawn().await;
    let id = app.hmac_connection().await;
    for (body, message) in [
        ("not json", "Body is not valid JSON"),
        (
            r#"{"event_type":"record_updated","data":{}}"#,
            "Missing record_id",
        ),
        (
            r#"{"record_id":""}"#,
            "record_id must be a non-empty string",
        ),
        (
            r#"{"record_id":"r","event_type":"record_exploded"}"#,
            "event_type must be record_created, record_updated or record_deleted",
        ),
        (r#"[1,2]"#, "Body must be a JSON object"),
    ] {
        let response = app.push_hmac(id, body, &[]).await;
        assert_eq!(response.status(), 400, "{body}");
        assert_eq!(json(response).await["error"], message, "{body}");
    }
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_over_the_limit_is_413() {
    let app = TestApp::spawn_with(&[("MAX_BODY_BYTES", "2048")]).await;
    let id = app.hmac_connection().await;
    let padding = "x".repeat(2048 - r#"{"record_id":"r","pad":""}"#.len());
    let exact = format!(r#"{{"record_id":"r","pad":"{padding}"}}"#);
    assert_eq!(exact.len(), 2048);
    assert_eq!(app.push_hmac(id, &exact, &[]).await.status(), 202);
    let over = format!(r#"{{"record_id":"s","pad":"{padding}x"}}"#);
    let refused = app.push_hmac(id, &over, &[]).await;
    assert_eq!(refused.status(), 413);
    assert_eq!(refused.headers()["connection"], "close");
    assert_eq!(app.event_count().await, 1);
    let metrics = app.metrics().await;
    let counted = r#"ingress_rejections_total{route="push",reason="body_too_large"} 1"#;
    assert!(
        metrics.lines().any(|line| line == counted),
        "{counted} in:\n{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_database_gone_pushes_are_503_and_nothing_is_acknowledged() {
    let app = TestApp::spawn().await;
    let id = app.hmac_connection().await;
    assert_eq!(
        app.push_hmac(id, BODY, &[("x-idempotency-key", "before".into())])
            .await
            .status(),
        202
    );

    // Take the database away: refuse new connections and end the pool's.
    app.db.refuse_connections().await;

    for n in 0..3 {
        let response = app
            .push_hmac(id, BODY, &[("x-idempotency-key", format!("during-{n}"))])
            .await;
        assert_eq!(response.status(), 503);
        let body = response.text().await.unwrap();
        assert!(!body.contains("eventId"), "{body}");
    }
    assert_eq!(
        app.http
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );
    assert_eq!(
        app.http
            .get(app.url("/api/health"))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );

    // Back: accepted again, and only the acknowledged events exist.
    app.db.allow_connections().await;
    let back = eventually(std::time::Duration::from_secs(10), async || {
        app.push_hmac(id, BODY, &[("x-idempotency-key", "after".into())])
            .await
            .status()
            == 202
    })
    .await;
    assert!(
        back,
        "the ingress did not accept again after the database returned"
    );
    assert_eq!(app.event_count().await, 2);
}

/// Waits until the wall clock has just entered a new second.
async fn start_of_a_second() {
    let into = time::OffsetDateTime::now_utc().nanosecond();
    let left = 1_000_000_000 - u64::from(into);
    tokio::time::sleep(std::time::Duration::from_nanos(left + 5_000_000)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stored_secret_its_scheme_cannot_use_is_503_and_stores_nothing() {
    let app = TestApp::spawn().await;
    // A `standard` connection whose stored secret is not `whsec_` base64: the sender's push is
    // not at fault, so it is told to try again (503) rather than that its signature is wrong.
    let id = app
        .connection(
            WebhookScheme::Standard,
            "not-a-standard-secret",
            ConnectionStatus::Active,
        )
        .await;
    let response = push_standard(&app, id, "msg_1", BODY).await;
    assert_eq!(response.status(), 503);
    assert_eq!(app.event_count().await, 0);
    let metrics = app.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("ingress_rejections_total")
                && l.contains("reason=\"unavailable\"")),
        "{metrics}"
    );
}
