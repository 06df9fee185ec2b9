use serde_json::json;

use crate::common::{Env, id_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_enqueues_every_record_once_and_only_changes_again() {
    let env = Env::new().await;
    let id = id_of(&env.create_connection("shop", "hmac").await);
    let records: Vec<_> = (0..7)
        .map(|i| json!({"title": format!("Item {i}"), "price": format!("{i}.5")}))
        .collect();
    let ids = env.smartsuite.insert_records(&env.table, records);

    // Small pages and batches: several list calls and several inserts.
    let args = [
        "backfill",
        id.as_str(),
        "--page-size",
        "3",
        "--batch-size",
        "2",
        "--json",
    ];
    let first = env.run(&args).await.ok();
    assert_eq!(first["records"], 7);
    assert_eq!(first["enqueued"], 7);
    assert_eq!(first["unchanged"], 0);

    // A second run (or a run after an interrupted one) skips what is already enqueued.
    let second = env.run(&args).await.ok();
    assert_eq!(second["enqueued"], 0);
    assert_eq!(second["unchanged"], 7);

    env.smartsuite
        .update_record(&env.table, &ids[2], json!({"price": "99"}));
    let third = env.run(&["backfill", "shop", "--json"]).await.ok();
    assert_eq!(third["enqueued"], 1);
    assert_eq!(third["unchanged"], 6);
    let mut conn = env.store().await;
    let entry = suiteflow_store::latest_audit(&mut conn, "backfill.queued")
        .await
        .unwrap()
        .expect("the backfill is in the audit log");
    assert_eq!(entry.actor, "cli");
    assert_eq!(entry.connection_id.map(|c| c.to_string()), Some(id.clone()));
    assert_eq!(
        (&entry.details["enqueued"], &entry.details["alreadyQueued"]),
        (&json!(1), &json!(6))
    );

    let events = env
        .run(&["events", "list", "--connection", &id, "--json"])
        .await
        .ok();
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 8);
    assert!(
        events
            .iter()
            .all(|e| e["kind"] == "record" && e["status"] == "queued")
    );
    assert_eq!(events[0]["externalId"], ids[2].as_str());
    let shown = env
        .run(&[
            "events",
            "show",
            events[0]["id"].as_str().unwrap(),
            "--json",
        ])
        .await
        .ok();
    assert_eq!(shown["payload"]["record_id"], ids[2].as_str());
    assert_eq!(shown["payload"]["data"]["price"], "99");

    let text = env.run(&["backfill", &id]).await;
    text.assert_code(0);
    assert!(text.stdout.contains("0 enqueued"), "{}", text.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_with_a_rejected_key_fails_with_exit_1() {
    let env = Env::new().await;
    let id = id_of(
        &env.create_connection_with("shop", "hmac", &[("SMARTSUITE_API_KEY", Some("wrong-key"))])
            .await
            .ok(),
    );
    let run = env.run(&["backfill", &id]).await;
    run.assert_code(1);
    assert!(run.stderr.contains("401"), "{}", run.stderr);
    assert!(!run.all().contains("wrong-key"));
}
