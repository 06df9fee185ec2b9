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
