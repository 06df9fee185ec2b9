//! The real `ingress` and `worker` binaries, run with known secrets at LOG_LEVEL=debug: none of
//! the secrets, signatures or URL tokens may appear in what they log.

use serde_json::json;
use suiteflow_crypto::SecretString;
use suiteflow_test_support::fixtures::TEST_KEY;

use crate::processes::Binaries;
use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_appears_in_the_logs() {
    let p = Pipeline::start().await;
    let mut binaries = Binaries::start(&p, &[("LOG_LEVEL", "debug".to_string())]).await;
    let base = binaries.base.clone();
    let http = reqwest::Client::new();

    let body = json!({"event_type": "record_created", "record_id": "rec_1", "data": {"title": "Lamp", "price": "3"}}).to_string();
    let signature =
        suiteflow_webhook_security::sign_hmac(&SecretString::new(SECRET), body.as_bytes());
    assert_eq!(binaries.push(&p, &body, &signature).await.status(), 202);
    // A forged request and a ping with a made-up URL token are refused (and logged as such).
    let forged = binaries
        .push(&p, &body, "sha256=deadbeefcafe0123456789")
        .await;
    assert_eq!(forged.status(), 401);
    let url_token = "url-token-that-must-stay-secret";
    let ping = http
        .post(format!(
            "{base}/api/hooks/smartsuite/{}/{url_token}",
            p.connection.0
        ))
        .body(r#"{"webhookId":"x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), 401);
    binaries.wait_for_an_item(&p).await;
    binaries.stop();

    let logs = binaries.logs();
    assert!(
        logs.contains("webhook accepted"),
        "the ingress logged nothing useful:\n{logs}"
    );
    // The worker says what became of the event, in one structured line, without its payload.
    let line = logs
        .lines()
        .find(|l| l.contains("event processed"))
        .unwrap_or_else(|| panic!("no per-event line:\n{logs}"));
    for field in [
        "event_id",
        "connection_id",
        "record_id",
        "event_type",
        "outcome",
        "attempts",
        "webflow_item_id",
        "duration_ms",
    ] {
        assert!(line.contains(field), "{field} missing: {line}");
    }
    assert!(line.contains("rec_1") && line.contains("success"), "{line}");
    assert!(!line.contains("Lamp"), "the payload was logged: {line}");
    let hex_signature = signature.trim_start_matches("sha256=").to_string();
    for (what, secret) in [
        ("webhook secret", SECRET.to_string()),
        ("signature", hex_signature),
        ("forged signature", "deadbeefcafe0123456789".to_string()),
        ("URL token", url_token.to_string()),
        ("Webflow token", p.wf.token()),
        ("SmartSuite API key", p.ss.api_key()),
        ("data encryption key", TEST_KEY.to_string()),
    ] {
        assert!(!logs.contains(&secret), "the {what} appears in the logs");
    }
}
