//! The real `ingress` and `worker` binaries, run with known secrets at LOG_LEVEL=debug: none of
//! the secrets, signatures or URL tokens may appear in what they log.

use std::time::{Duration, Instant};

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
    let url = format!("{base}/api/hooks/{}", p.connection.0);
    let accepted = http
        .post(&url)
        .header("x-smartsuite-signature", &signature)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    // A forged request and a ping with a made-up URL token are refused (and logged as such).
    let forged = http
        .post(&url)
        .header("x-smartsuite-signature", "sha256=deadbeefcafe0123456789")
        .body(body)
        .send()
        .await
        .unwrap();
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
    let deadline = Instant::now() + Duration::from_secs(20);
    while p.items().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the worker did not write the item"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    binaries.stop();

    let logs = binaries.logs();
    assert!(
        logs.contains("webhook accepted"),
        "the ingress logged nothing useful:\n{logs}"
    );
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
