//! SmartSuite webhooks heal themselves: maintenance finds a webhook whose notifications
//! SmartSuite turned off, or that SmartSuite deleted, and repairs it; paused connections keep
//! their webhook alive.

use serde_json::json;
use suiteflow_store::{EventKind, EventStatus, WebhookStatus};

use crate::support::*;

/// The connection's webhook as SmartSuite lists it.
fn webhook(p: &Pipeline, id: &str) -> Option<serde_json::Value> {
    p.ss.webhooks().into_iter().find(|w| w["webhook_id"] == id)
}

#[tokio::test(flavor = "multi_thread")]
async fn notifications_turned_off_are_turned_back_on_and_pings_arrive_again() {
    let p = Pipeline::start().await;
    let id = p.register_smartsuite_webhook("first-token").await;
    assert!(p.ss.disable_notifications(&id));
    assert!(
        p.ss.ping(&id).await.is_err(),
        "a disabled webhook sends nothing"
    );

    p.worker.maintenance().await.unwrap();

    let hook = webhook(&p, &id).expect("the same webhook");
    let url = hook["notification_status"]["enabled"]["url"]
        .as_str()
        .unwrap_or_else(|| panic!("notifications are on again: {hook}"));
    assert!(url.starts_with(&p.ingress), "{url}");
    assert!(!url.ends_with("first-token"), "a fresh URL token: {url}");
    let store = p.store().await;
    let mut conn = store.get().await.unwrap();
    let check = suiteflow_store::webhook_check(&mut conn, p.connection)
        .await
        .unwrap()
        .expect("the check is recorded");
    assert_eq!(check.status, WebhookStatus::Ok, "{check:?}");
    assert!(check.detail.unwrap().contains("turned back on"));

    // SmartSuite's next ping reaches the ingress and is accepted with the new token.
    p.ss.insert_record(&p.table, json!({"title": "Lamp", "price": "3"}));
    assert_eq!(p.ss.ping(&id).await, Ok(200));
    assert!(p.wait_for_queued().await, "the ping queued a pull");
    p.sync().await;
    assert_eq!(p.items().len(), 1);

    // Checked again only after WEBHOOK_CHECK_INTERVAL_SECS.
    p.ss.clear_requests();
    p.worker.maintenance().await.unwrap();
    assert!(
        !p.ss
            .requests()
            .iter()
            .any(|r| r.path.ends_with("ListWebhooks")),
        "{:?}",
        p.ss.requests()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_webhook_is_registered_again_and_every_record_is_caught_up() {
    let p = Pipeline::start().await;
    let old = p.register_smartsuite_webhook("first-token").await;
    p.ss.set_auto_ping(false);
    p.ss.insert_records(
        &p.table,
        (0..3)
            .map(|i| json!({"title": format!("Shelf {i}"), "price": "9"}))
            .collect(),
    );
    // SmartSuite deleted it, with the events it stored for those changes.
    assert!(p.ss.expire_webhook(&old));

    p.worker.maintenance().await.unwrap();

    let connection = p.connection_row().await;
    let new = connection.smartsuite_webhook_id.clone().unwrap();
    assert_ne!(new, old);
    let hook = webhook(&p, &new).expect("registered again");
    assert!(
        hook["notification_status"]["enabled"]["url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&p.ingress)),
        "{hook}"
    );
    assert_eq!(connection.smartsuite_events_cursor, None);
    let queued: Vec<_> = p
        .all_events()
        .await
        .into_iter()
        .filter(|e| e.kind == EventKind::Record)
        .collect();
    assert_eq!(queued.len(), 3, "every record queued to catch up");
    p.sync().await;
    assert_eq!(p.items().len(), 3);
    let store = p.store().await;
    let mut conn = store.get().await.unwrap();
    let check = suiteflow_store::webhook_check(&mut conn, p.connection)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (check.status, check.webhook_id.as_str()),
        (WebhookStatus::Ok, new.as_str())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_connection_keeps_its_webhook_alive_and_its_changes_wait() {
    let p = Pipeline::start().await;
    let id = p.register_smartsuite_webhook("first-token").await;
    p.ss.set_auto_ping(false);
    p.ss.insert_record(&p.table, json!({"title": "Stool", "price": "4"}));
    p.cli(&["connection", "pause", &p.connection.0.to_string()]);

    // The keep-alive pull is queued and claimed although the connection is paused.
    p.worker.maintenance().await.unwrap();
    p.worker.run_until_empty().await.unwrap();
    let events = p.all_events().await;
    let pull = events
        .iter()
        .find(|e| e.kind == EventKind::Pull)
        .expect("a keep-alive pull");
    assert_eq!(pull.status, EventStatus::Success, "{pull:?}");
    assert!(
        p.ss.requests()
            .iter()
            .any(|r| r.path.ends_with("ListEvents") && r.body["webhook_id"] == id.as_str()),
        "the webhook was read"
    );
    assert!(
        p.connection_row()
            .await
            .smartsuite_webhook_kept_alive_at
            .is_some()
    );
    // The change it brought waits for the connection to be resumed.
    let record = events
        .iter()
        .find(|e| e.kind == EventKind::Record)
        .expect("the change was pulled");
    assert_eq!(record.status, EventStatus::Queued);
    assert!(p.items().is_empty());

    p.cli(&["connection", "resume", &p.connection.0.to_string()]);
    p.sync().await;
    assert_eq!(p.items().len(), 1);
}
