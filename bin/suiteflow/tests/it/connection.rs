use serde_json::json;
use suiteflow_crypto::{Encrypted, EncryptionKey, Keyring};
use suiteflow_store::{ConnectionId, SecretColumn};

use crate::common::{APP_URL, Env, KEY, id_of};

fn sha256_hex(text: &str) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()))
}

fn keyring() -> Keyring {
    Keyring::new(EncryptionKey::from_hex(KEY).unwrap(), None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_prints_the_secret_once_and_list_and_show_never_do() {
    let env = Env::new().await;
    let created = env.create_connection("shop", "hmac").await;
    let id = id_of(&created);
    assert!(id.parse::<ConnectionId>().is_ok());
    assert_eq!(created["webhookUrl"], format!("{APP_URL}/api/hooks/{id}"));
    assert_eq!(created["webhookScheme"], "hmac");
    assert_eq!(created["status"], "active");
    let secret = created["webhookSecret"].as_str().unwrap().to_string();
    assert!(secret.len() >= 32);

    // The stored secret is sealed with the connection id as associated data and opens to it.
    let mut conn = env.store().await;
    let stored = suiteflow_store::get_connection(&mut conn, id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let sealed = stored.webhook_secret.sealed();
    let opened = keyring()
        .decrypt_string(
            &Encrypted::new(sealed.ciphertext, sealed.iv),
            &SecretColumn::WebhookSecret.aad(stored.id),
        )
        .unwrap();
    assert_eq!(opened.expose(), secret);

    let list = env.run(&["connection", "list", "--json"]).await;
    let listed = list.ok();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["name"], "shop");
    for key in [
        "smartsuiteTableId",
        "webflowCollectionId",
        "rateLimitPerMin",
        "createdAt",
        "status",
    ] {
        assert!(!listed[0][key].is_null(), "{key} missing from {listed}");
    }
    let show = env.run(&["connection", "show", "shop", "--json"]).await;
    let shown = show.ok();
    assert_eq!(shown["id"], id.as_str());
    assert!(shown["mapping"].is_null());
    for run in [&list, &show, &env.run(&["connection", "list"]).await] {
        for leaked in [
            secret.as_str(),
            &env.smartsuite.api_key(),
            &env.webflow.token(),
        ] {
            assert!(
                !run.all().contains(leaked),
                "a secret was printed:\n{}",
                run.all()
            );
        }
    }
    let text = env.run(&["connection", "list"]).await;
    text.assert_code(0);
    assert!(text.stdout.contains("shop") && text.stdout.contains(&id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hmac_connection_is_told_once_that_standard_signs_the_timestamp() {
    let env = Env::new().await;
    let hmac = env.create_connection_with("plain", "hmac", &[]).await;
    hmac.assert_code(0);
    let advice: Vec<&str> = hmac
        .stderr
        .lines()
        .filter(|l| l.contains("--scheme standard"))
        .collect();
    assert_eq!(advice.len(), 1, "{}", hmac.stderr);
    assert!(advice[0].contains("timestamp"), "{}", advice[0]);
    let standard = env.create_connection_with("std", "standard", &[]).await;
    standard.assert_code(0);
    assert!(
        !standard.stderr.contains("--scheme standard"),
        "{}",
        standard.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_scheme_gets_a_whsec_secret() {
    let env = Env::new().await;
    let created = env.create_connection("std", "standard").await;
    assert_eq!(created["webhookScheme"], "standard");
    assert!(
        created["webhookSecret"]
            .as_str()
            .unwrap()
            .starts_with("whsec_")
    );
    assert!(created["smartsuiteNotificationUrl"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smartsuite_scheme_stores_the_token_hash_and_registers_the_webhook() {
    let env = Env::new().await;
    let created = env.create_connection("ss", "smartsuite").await;
    let id = id_of(&created);
    assert_eq!(created["webhookScheme"], "smartsuite");
    let url = created["smartsuiteNotificationUrl"].as_str().unwrap();
    let prefix = format!("{APP_URL}/api/hooks/smartsuite/{id}/");
    let token = url.strip_prefix(&prefix).unwrap_or_else(|| panic!("{url}"));
    let mut conn = env.store().await;
    let stored = suiteflow_store::get_connection(&mut conn, id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.webhook_scheme, suiteflow_store::WebhookScheme::Hmac);
    assert_eq!(
        stored.smartsuite_webhook_token_hash.as_deref(),
        Some(sha256_hex(token).as_str())
    );

    let registered = env
        .run(&["connection", "register-webhook", &id, "--json"])
        .await
        .ok();
    let webhook_id = registered["smartsuiteWebhookId"]
        .as_str()
        .unwrap()
        .to_string();
    let new_url = registered["smartsuiteNotificationUrl"].as_str().unwrap();
    let new_token = new_url.strip_prefix(&prefix).unwrap();
    assert_ne!(new_token, token, "a registration issues a fresh token");
    let webhooks = env.smartsuite.webhooks();
    assert_eq!(webhooks.len(), 1, "{webhooks:?}");
    assert_eq!(webhooks[0]["webhook_id"], webhook_id.as_str());
    assert_eq!(
        webhooks[0]["notification_status"]["enabled"]["url"],
        new_url
    );
    let stored = suiteflow_store::get_connection(&mut conn, id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.smartsuite_webhook_id.as_deref(),
        Some(webhook_id.as_str())
    );
    assert_eq!(
        stored.smartsuite_solution_id.as_deref(),
        Some(env.solution.as_str())
    );
    assert_eq!(
        stored.smartsuite_webhook_token_hash.as_deref(),
        Some(sha256_hex(new_token).as_str())
    );

    // Registering again replaces the webhook.
    let again = env
        .run(&["connection", "register-webhook", &id, "--json"])
        .await
        .ok();
    assert_eq!(again["replacedWebhookId"], webhook_id.as_str());
    assert_eq!(env.smartsuite.webhooks().len(), 1);
    // On record, by the CLI, with the webhook ids and never the URL (it holds the token).
    let entry = suiteflow_store::latest_audit(&mut conn, "connection.register_webhook")
        .await
        .unwrap()
        .expect("the registration is in the audit log");
    assert_eq!(entry.actor, "cli");
    assert_eq!(entry.details["replacedWebhookId"], webhook_id.as_str());
    assert_eq!(
        entry.details["smartsuiteWebhookId"],
        again["smartsuiteWebhookId"]
    );
    let new_url = again["smartsuiteNotificationUrl"].as_str().unwrap();
    let token = new_url.rsplit('/').next().unwrap();
    assert!(
        !entry.details.to_string().contains(token),
        "{}",
        entry.details
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_secret_variables_exit_2_naming_both_and_store_nothing() {
    let env = Env::new().await;
    let run = env
        .create_connection_with(
            "x",
            "hmac",
            &[("SMARTSUITE_API_KEY", None), ("WEBFLOW_TOKEN", Some(""))],
        )
        .await;
    run.assert_code(2);
    assert!(
        run.stderr.contains("SMARTSUITE_API_KEY") && run.stderr.contains("WEBFLOW_TOKEN"),
        "{}",
        run.stderr
    );
    assert_eq!(
        env.run(&["connection", "list", "--json"]).await.ok(),
        serde_json::json!([])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_passed_as_a_flag_is_refused_naming_the_variable() {
    let env = Env::new().await;
    for (flag, variable) in [
        ("--webflow-token=wf-secret-value", "WEBFLOW_TOKEN"),
        ("--smartsuite-api-key=wf-secret-value", "SMARTSUITE_API_KEY"),
    ] {
        let run = env
            .run(&[
                "connection",
                "create",
                "--name",
                "x",
                flag,
                "--smartsuite-account",
                "a",
            ])
            .await;
        run.assert_code(2);
        assert!(run.stderr.contains(variable), "{}", run.stderr);
        assert!(run.stderr.contains("environment"), "{}", run.stderr);
        assert!(!run.all().contains("wf-secret-value"));
    }
    assert_eq!(
        env.run(&["connection", "list", "--json"]).await.ok(),
        serde_json::json!([])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_connections_are_refused_with_exit_3() {
    let env = Env::new().await;
    let unknown = ConnectionId::new_random().to_string();
    for args in [
        vec!["connection", "show", unknown.as_str()],
        vec!["connection", "pause", "no-such-name"],
        vec!["connection", "resume", unknown.as_str()],
        vec!["connection", "archive", unknown.as_str()],
        vec!["connection", "rotate-secret", unknown.as_str()],
        vec!["connection", "register-webhook", unknown.as_str()],
        vec!["backfill", unknown.as_str()],
        vec!["check", unknown.as_str()],
        vec!["mapping", "show", unknown.as_str()],
        vec!["events", "list", "--connection", unknown.as_str()],
    ] {
        let run = env.run(&args).await;
        run.assert_code(3);
        assert!(
            run.stderr.contains("unknown connection"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_and_archive_change_the_status() {
    let env = Env::new().await;
    let id = id_of(&env.create_connection("shop", "hmac").await);
    let paused = env.run(&["connection", "pause", &id, "--json"]).await.ok();
    assert_eq!(paused["status"], "paused");
    assert_eq!(paused["previousStatus"], "active");
    let resumed = env
        .run(&["connection", "resume", "shop", "--json"])
        .await
        .ok();
    assert_eq!(resumed["status"], "active");
    env.run(&["connection", "archive", &id])
        .await
        .assert_code(0);
    let shown = env.run(&["connection", "show", &id, "--json"]).await.ok();
    assert_eq!(shown["status"], "archived");
    let run = env.run(&["connection", "resume", &id]).await;
    run.assert_code(3);
    assert!(run.stderr.contains("archived"));
    // Each change is on record with the CLI as its actor.
    let mut conn = env.store().await;
    let created = suiteflow_store::latest_audit(&mut conn, "connection.created")
        .await
        .unwrap()
        .expect("the creation is in the audit log");
    assert_eq!(
        (created.actor.as_str(), &created.details["name"]),
        ("cli", &"shop".into())
    );
    let status = suiteflow_store::latest_audit(&mut conn, "connection.status")
        .await
        .unwrap()
        .expect("the archiving is in the audit log");
    assert_eq!(
        (&status.details["from"], &status.details["to"]),
        (&"active".into(), &"archived".into())
    );
    assert_eq!(status.connection_id.map(|c| c.to_string()), Some(id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_secret_replaces_the_secret_and_prints_it_once() {
    let env = Env::new().await;
    let created = env.create_connection("shop", "hmac").await;
    let id = id_of(&created);
    let rotated = env
        .run(&["connection", "rotate-secret", &id, "--json"])
        .await
        .ok();
    let new_secret = rotated["webhookSecret"].as_str().unwrap();
    assert_ne!(new_secret, created["webhookSecret"].as_str().unwrap());
    let mut conn = env.store().await;
    let stored = suiteflow_store::get_connection(&mut conn, id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let sealed = stored.webhook_secret.sealed();
    let opened = keyring()
        .decrypt_string(
            &Encrypted::new(sealed.ciphertext, sealed.iv),
            &SecretColumn::WebhookSecret.aad(stored.id),
        )
        .unwrap();
    assert_eq!(opened.expose(), new_secret);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_changes_only_the_settings_given() {
    let env = Env::new().await;
    let credentials = env.credentials();
    let vars: Vec<(&str, Option<&str>)> = credentials
        .iter()
        .map(|(k, v)| (*k, Some(v.as_str())))
        .collect();
    let created = env
        .run_with(
            &[
                "connection",
                "create",
                "--name",
                "shop",
                "--smartsuite-account",
                "acc",
                "--smartsuite-table",
                "tbl",
                "--webflow-site",
                "site",
                "--webflow-collection",
                "coll",
                "--sync-delay",
                "750ms",
                "--json",
            ],
            &vars,
            None,
        )
        .await
        .ok();
    assert_eq!(created["syncDelayMs"], 750);
    let id = id_of(&created);
    let set = env
        .run(&[
            "connection",
            "set",
            &id,
            "--sync-delay",
            "5s",
            "--rate-limit",
            "60",
            "--json",
        ])
        .await
        .ok();
    assert_eq!(
        (
            &set["syncDelayMs"],
            &set["rateLimitPerMin"],
            &set["maxRetries"]
        ),
        (&json!(5000), &json!(60), &created["maxRetries"]),
        "{set}"
    );
    let shown = env
        .run(&["connection", "show", "shop", "--json"])
        .await
        .ok();
    assert_eq!(shown["syncDelayMs"], 5000);
    let again = env
        .run(&["connection", "set", "shop", "--max-retries", "9", "--json"])
        .await
        .ok();
    assert_eq!(
        (&again["maxRetries"], &again["syncDelayMs"]),
        (&json!(9), &json!(5000))
    );

    // Refused before anything changes: nothing to set, a bad duration, an unknown connection.
    env.run(&["connection", "set", &id]).await.assert_code(2);
    let bad = env
        .run(&["connection", "set", &id, "--sync-delay", "5 parsecs"])
        .await;
    bad.assert_code(2);
    assert!(bad.stderr.contains("sync-delay"), "{}", bad.stderr);
    env.run(&["connection", "set", &id, "--sync-delay", "2h"])
        .await
        .assert_code(2);
    env.run(&["connection", "set", "no-such", "--max-retries", "1"])
        .await
        .assert_code(3);
    let shown = env.run(&["connection", "show", &id, "--json"]).await.ok();
    assert_eq!(
        (&shown["maxRetries"], &shown["syncDelayMs"]),
        (&json!(9), &json!(5000))
    );
}
