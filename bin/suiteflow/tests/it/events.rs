use std::time::Duration;

use serde_json::json;
use suiteflow_store::queue::{self, NewEvent};
use suiteflow_store::{ConnectionId, EventId};

use crate::common::{Env, id_of};

async fn enqueue(env: &Env, connection: &str, record: &str, key: &str) -> EventId {
    let mut conn = env.store().await;
    let id: ConnectionId = connection.parse().unwrap();
    let event = NewEvent::record(id, record, "record_updated", key)
        .with_payload(json!({"record_id": record, "data": {"title": record}}));
    queue::enqueue(&mut conn, &event).await.unwrap().id()
}

/// Claims every queued event and moves it to the dead letters.
async fn dead_letter_all(env: &Env) {
    let mut conn = env.store().await;
    for event in queue::claim(&mut conn, "test-worker", 100, Duration::from_secs(60))
        .await
        .unwrap()
    {
        queue::dead_letter(
            &mut conn,
            "test-worker",
            event.id,
            &queue::EventError::text("Webflow said no"),
        )
        .await
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_and_show_events_with_filters() {
    let env = Env::new().await;
    let a = id_of(&env.create_connection("a", "hmac").await);
    let b = id_of(&env.create_connection("b", "hmac").await);
    assert_eq!(env.run(&["events", "list", "--json"]).await.ok(), json!([]));
    let first = enqueue(&env, &a, "rec-1", "k1").await;
    dead_letter_all(&env).await;
    enqueue(&env, &a, "rec-2", "k2").await;
    enqueue(&env, &b, "rec-3", "k3").await;

    let all = env.run(&["events", "list", "--json"]).await.ok();
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0]["externalId"], "rec-3", "newest first");
    for key in [
        "id",
        "connectionId",
        "kind",
        "eventType",
        "status",
        "attempts",
        "queuedAt",
        "idempotencyKey",
    ] {
        assert!(!all[0][key].is_null(), "{key} missing");
    }
    assert!(all[0].get("payload").is_none(), "list leaves payloads out");

    let dead = env
        .run(&["events", "list", "--status", "dead-letter", "--json"])
        .await
        .ok();
    assert_eq!(dead.as_array().unwrap().len(), 1);
    assert_eq!(dead[0]["id"], first.to_string());
    assert_eq!(dead[0]["error"], "Webflow said no");
    let of_a = env
        .run(&["events", "list", "--connection", "a", "--json"])
        .await
        .ok();
    assert_eq!(of_a.as_array().unwrap().len(), 2);
    let limited = env
        .run(&["events", "list", "--limit", "1", "--json"])
        .await
        .ok();
    assert_eq!(limited.as_array().unwrap().len(), 1);
    let text = env.run(&["events", "list"]).await;
    text.assert_code(0);
    assert!(text.stdout.contains("dead_letter") && text.stdout.contains("rec-1"));

    let shown = env
        .run(&["events", "show", &first.to_string(), "--json"])
        .await
        .ok();
    assert_eq!(shown["payload"]["record_id"], "rec-1");
    assert_eq!(shown["status"], "dead_letter");
    env.run(&["events", "show", &first.to_string()])
        .await
        .assert_code(0);
    env.run(&["events", "show", &uuid::Uuid::new_v4().to_string()])
        .await
        .assert_code(3);
    env.run(&["events", "show", "not-an-id"])
        .await
        .assert_code(3);
    env.run(&["events", "list", "--status", "bogus"])
        .await
        .assert_code(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_requeues_finished_events_and_refuses_others() {
    let env = Env::new().await;
    let a = id_of(&env.create_connection("a", "hmac").await);
    let b = id_of(&env.create_connection("b", "hmac").await);
    let dead_a = enqueue(&env, &a, "rec-1", "k1").await;
    let dead_a2 = enqueue(&env, &a, "rec-2", "k2").await;
    let dead_b = enqueue(&env, &b, "rec-3", "k3").await;
    dead_letter_all(&env).await;
    let queued = enqueue(&env, &a, "rec-4", "k4").await;

    let run = env.run(&["events", "replay", &queued.to_string()]).await;
    run.assert_code(3);
    assert!(run.stderr.contains("queued"), "{}", run.stderr);
    env.run(&["events", "replay", &uuid::Uuid::new_v4().to_string()])
        .await
        .assert_code(3);

    let one = env
        .run(&["events", "replay", &dead_b.to_string(), "--json"])
        .await
        .ok();
    assert_eq!(one["previousStatus"], "dead_letter");
    assert_eq!(one["status"], "queued");

    let many = env
        .run(&[
            "events",
            "replay",
            "--dead-letter",
            "--connection",
            &a,
            "--json",
        ])
        .await
        .ok();
    assert_eq!(many["requeued"], 2);
    let ids: Vec<String> = many["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert!(ids.contains(&dead_a.to_string()) && ids.contains(&dead_a2.to_string()));
    let again = env
        .run(&["events", "replay", "--dead-letter", "--json"])
        .await
        .ok();
    assert_eq!(again["requeued"], 0);
    let dead = env
        .run(&["events", "list", "--status", "dead-letter", "--json"])
        .await
        .ok();
    assert_eq!(dead, json!([]));

    // usage errors
    env.run(&["events", "replay"]).await.assert_code(2);
    env.run(&["events", "replay", &dead_b.to_string(), "--dead-letter"])
        .await
        .assert_code(2);
    env.run(&["events", "replay", "--connection", &a])
        .await
        .assert_code(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_successes_are_listed_with_their_first_warning() {
    let env = Env::new().await;
    let a = id_of(&env.create_connection("a", "hmac").await);
    enqueue(&env, &a, "rec-whole", "k1").await;
    enqueue(&env, &a, "rec-partial", "k2").await;
    {
        let mut conn = env.store().await;
        for event in queue::claim(&mut conn, "test-worker", 10, Duration::from_secs(60))
            .await
            .unwrap()
        {
            let warnings = if event.external_id == "rec-partial" {
                vec!["image: file sunset.jpg is over 4 MB; not sent".to_string()]
            } else {
                Vec::new()
            };
            let completion = queue::Completion {
                webflow_item_id: Some("item".into()),
                webflow_response: None,
                warnings,
            };
            queue::complete(&mut conn, "test-worker", event.id, &completion)
                .await
                .unwrap();
        }
    }
    let partial = env
        .run(&["events", "list", "--partial", "--json"])
        .await
        .ok();
    let partial = partial.as_array().unwrap();
    assert_eq!(partial.len(), 1, "{partial:?}");
    assert_eq!(partial[0]["externalId"], "rec-partial");
    let run = env.run(&["events", "list", "--partial"]).await;
    run.assert_code(0);
    let text = run.stdout;
    assert!(text.contains("partial: image: file sunset.jpg"), "{text}");
    assert!(!text.contains("rec-whole"), "{text}");
}
