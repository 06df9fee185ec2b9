use crate::common::{Env, id_of};

fn status_of<'a>(report: &'a serde_json::Value, name: &str) -> &'a str {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {report}"))["status"]
        .as_str()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_passes_with_working_credentials_and_a_fitting_mapping() {
    let env = Env::new().await;
    let id = id_of(&env.create_connection("shop", "hmac").await);
    let run = env.run(&["check", &id, "--json"]).await;
    run.assert_code(1);
    let report = run.json();
    assert_eq!(report["ok"], false);
    assert_eq!(status_of(&report, "mapping"), "failed");
    assert_eq!(status_of(&report, "smartsuite_credentials"), "ok");

    env.run(&["mapping", "set", &id, "--file", &env.good_mapping()])
        .await
        .assert_code(0);
    let report = env.run(&["check", &id, "--json"]).await.ok();
    assert_eq!(report["ok"], true);
    for name in [
        "smartsuite_credentials",
        "webflow_site",
        "webflow_collection",
        "webflow_items",
        "mapping",
    ] {
        assert_eq!(status_of(&report, name), "ok", "{report}");
    }
    let text = env.run(&["check", &id]).await;
    text.assert_code(0);
    assert!(text.stdout.contains("[ok  ] mapping"), "{}", text.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_rejected_credentials() {
    let env = Env::new().await;
    let id = id_of(
        &env.create_connection_with("shop", "hmac", &[("WEBFLOW_TOKEN", Some("wrong-token"))])
            .await
            .ok(),
    );
    let run = env.run(&["check", &id, "--json"]).await;
    run.assert_code(1);
    let report = run.json();
    assert_eq!(status_of(&report, "webflow_site"), "failed");
    assert_eq!(status_of(&report, "smartsuite_credentials"), "ok");
    assert!(run.stdout.contains("401"));
    assert!(!run.all().contains("wrong-token"));
}

fn check_of<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_prints_the_api_keys_calls_this_month_against_the_quota() {
    let env = Env::new().await;
    let id = id_of(&env.create_connection("shop", "hmac").await);
    env.run(&["mapping", "set", &id, "--file", &env.good_mapping()])
        .await
        .assert_code(0);
    let before = env.smartsuite.requests().len();
    let report = env.run(&["check", &id, "--json"]).await.ok();
    let quota = check_of(&report, "smartsuite_quota");
    assert_eq!(quota["status"], "ok", "{report}");
    let detail = quota["detail"].as_str().unwrap();
    assert!(
        detail.contains("SMARTSUITE_MONTHLY_QUOTA is not set"),
        "{detail}"
    );
    // Every SmartSuite call the commands made so far was counted (this check's own table
    // read comes before the count; its webhook list is skipped: none is registered).
    let counted: usize = detail
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {detail:?}"));
    assert!(
        counted > before && counted <= env.smartsuite.requests().len(),
        "{counted} counted, {} made",
        env.smartsuite.requests().len()
    );

    // A quota the count has passed 80 % of is a warning (not a failure).
    let quota_value = (counted as f64 / 0.85).floor().max(1.0).to_string();
    let run = env
        .run_with(
            &["check", &id, "--json"],
            &[("SMARTSUITE_MONTHLY_QUOTA", Some(quota_value.as_str()))],
            None,
        )
        .await;
    run.assert_code(0);
    let report = run.json();
    let quota = check_of(&report, "smartsuite_quota");
    assert_eq!(quota["status"], "warning", "{report}");
    assert!(
        quota["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("of {quota_value} SmartSuite calls this month")),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_the_webhook_the_links_that_wait_and_recent_errors() {
    use suiteflow_store::{ConnectionId, WebhookStatus};
    let env = Env::new().await;
    let id = id_of(&env.create_connection("shop", "hmac").await);
    env.run(&["mapping", "set", &id, "--file", &env.good_mapping()])
        .await
        .assert_code(0);
    let report = env.run(&["check", &id, "--json"]).await.ok();
    assert_eq!(status_of(&report, "recent_errors"), "ok", "{report}");
    assert_eq!(status_of(&report, "pending_links"), "ok", "{report}");
    assert!(
        !report.to_string().contains("webhook_health"),
        "no webhook, no webhook checks: {report}"
    );

    let connection: ConnectionId = id.parse().unwrap();
    {
        let mut conn = env.store().await;
        let changes = suiteflow_store::ConnectionChanges {
            smartsuite_webhook_id: Some(Some("wh-1".into())),
            ..Default::default()
        };
        suiteflow_store::update_connection(&mut conn, connection, &changes)
            .await
            .unwrap();
        suiteflow_store::record_webhook_check(
            &mut conn,
            connection,
            "wh-1",
            WebhookStatus::Disabled,
            Some("notifications are off and could not be turned on"),
        )
        .await
        .unwrap();
        suiteflow_store::set_pending_links(
            &mut conn,
            connection,
            "rec-1",
            &[(connection, "rec-2".into())],
        )
        .await
        .unwrap();
        suiteflow_store::record_connection_error(&mut conn, connection, "Webflow said 500", None)
            .await
            .unwrap();
    }
    let run = env.run(&["check", &id, "--json"]).await;
    run.assert_code(1);
    let report = run.json();
    let health = check_of(&report, "webhook_health");
    assert_eq!(health["status"], "failed", "{report}");
    assert!(
        health["detail"]
            .as_str()
            .is_some_and(|d| d.contains("disabled") && d.contains("could not be turned on")),
        "{report}"
    );
    assert_eq!(
        status_of(&report, "webhook_keep_alive"),
        "warning",
        "never read"
    );
    assert!(
        check_of(&report, "pending_links")["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("1 links wait")),
        "{report}"
    );
    let errors = check_of(&report, "recent_errors");
    assert_eq!(errors["status"], "warning", "{report}");
    assert!(
        errors["problems"][0]
            .as_str()
            .is_some_and(|p| p.contains("Webflow said 500")),
        "{report}"
    );
}
