//! The real `ingress` and `worker` binaries, run with known secrets at LOG_LEVEL=debug: none of
//! the secrets, signatures or URL tokens may appear in what they log.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use suiteflow_crypto::SecretString;
use suiteflow_test_support::fixtures::TEST_KEY;

use crate::support::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(path: &std::path::Path, env: &[(&str, String)], log: &std::path::Path) -> Child {
    let file = std::fs::File::create(log).unwrap();
    Command::new(path)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()))
}

fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_appears_in_the_logs() {
    let p = Pipeline::start().await;
    let worker_bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_worker"));
    let ingress_bin = worker_bin.with_file_name("ingress");
    assert!(
        ingress_bin.exists(),
        "{} is missing: build the workspace's binaries (just test does)",
        ingress_bin.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let env = [
        ("DATABASE_URL", p.db.url().to_string()),
        ("DATA_ENCRYPTION_KEY", TEST_KEY.to_string()),
        ("INGRESS_ADDR", format!("127.0.0.1:{port}")),
        ("WORKER_METRICS_ADDR", format!("127.0.0.1:{}", free_port())),
        ("WEBFLOW_API_BASE", p.wf.base_url().to_string()),
        ("SMARTSUITE_API_BASE", p.ss.api_base().to_string()),
        (
            "SMARTSUITE_WEBHOOKS_API_BASE",
            p.ss.webhooks_base().to_string(),
        ),
        ("LOG_LEVEL", "debug".to_string()),
    ];
    let mut ingress = spawn(&ingress_bin, &env, &dir.path().join("ingress.log"));
    let mut worker = spawn(&worker_bin, &env, &dir.path().join("worker.log"));
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "ingress did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

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
    stop(&mut ingress);
    stop(&mut worker);

    let logs = std::fs::read_to_string(dir.path().join("ingress.log")).unwrap()
        + &std::fs::read_to_string(dir.path().join("worker.log")).unwrap();
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
