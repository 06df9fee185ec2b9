//! Schemas change under the sync: the worker reads them again after SCHEMA_TTL_SECS, and at
//! once when a write suggests they changed. A new option works without a restart; a mapping
//! that no longer fits stops the connection (naming the field) instead of dead-lettering.

use serde_json::json;
use suiteflow_store::{ConnectionStatus, EventStatus};

use crate::support::*;

/// The products mapping, with the category (a select) mapped to the collection's Option field.
fn mapping_with_category() -> serde_json::Value {
    json!({
        "fieldMap": {
            "name": {"type": "direct", "source": "title"},
            "price": {"type": "direct", "source": "price"},
            "category": {"type": "direct", "source": "category"}
        },
        "slugTemplate": "{{title}}"
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_option_on_both_sides_works_without_a_restart() {
    let p = Pipeline::start().await;
    suiteflow_test_support::fixtures::set_mapping(
        p.db.url(),
        p.connection,
        mapping_with_category(),
    )
    .await;
    let chair = json!({"title": "Chair", "price": "10", "category": "c1"});
    p.accept("record_created", "rec_1", chair, "k1").await;
    p.sync().await;
    assert_eq!(p.count(EventStatus::Success).await, 1);

    // A new category, added in SmartSuite and in the Webflow designer while the worker runs.
    assert!(p.ss.add_choice(&p.table, "category", "Lamps", "c3"));
    let lamps = p.wf.add_option(&p.collection, "category", "Lamps").unwrap();
    let lamp = json!({"title": "Lamp", "price": "5", "category": "c3"});
    p.accept("record_created", "rec_2", lamp, "k2").await;
    p.sync().await;
    assert_eq!(
        p.calls("GET", &p.collection),
        2,
        "the unknown choice had the schemas read again"
    );

    let [event] = p.events_of("rec_2").await.try_into().unwrap();
    assert_eq!(event.status, EventStatus::Success, "{event:?}");
    assert!(!event.partial_success, "no warning: {:?}", event.warnings);
    let item = p.wf.item_by_slug(&p.collection, "lamp").unwrap();
    assert_eq!(item["fieldData"]["category"], lamps.as_str(), "{item}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_field_removed_in_webflow_stops_the_connection_naming_it_and_its_events_wait() {
    let p = Pipeline::start().await;
    let chair = |price: &str| json!({"title": "Chair", "price": price});
    p.accept("record_created", "rec_1", chair("10"), "k1").await;
    p.sync().await;
    assert!(p.wf.remove_field(&p.collection, "price"));
    p.accept("record_updated", "rec_1", chair("12"), "k2").await;
    p.accept("record_created", "rec_2", chair("15"), "k3").await;
    // One run: the refusal has the schemas read again, and the mapping no longer fits.
    p.worker.run_until_empty().await.unwrap();

    let connection = p.connection_row().await;
    assert_eq!(connection.status, ConnectionStatus::Error);
    let message = connection.last_error_message.unwrap_or_default();
    assert!(message.contains("price"), "{message}");
    assert_eq!(
        p.count(EventStatus::DeadLetter).await,
        0,
        "nothing dead-lettered"
    );
    let waiting = p.count(EventStatus::Queued).await;
    assert_eq!(waiting, 2, "both events wait for a person");
    let [_, update] = p.events_of("rec_1").await.try_into().unwrap();
    let shown = p.cli(&["events", "show", &update.id.0.to_string()]);
    assert_eq!(shown["errorDetail"]["kind"], "mapping_mismatch", "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_required_field_removed_in_smartsuite_stops_the_connection_naming_it() {
    let p = Pipeline::start().await;
    suiteflow_test_support::fixtures::set_mapping(
        p.db.url(),
        p.connection,
        json!({
            "fieldMap": {
                "name": {"type": "direct", "source": "title"},
                "price": {"type": "direct", "source": "price"}
            },
            "slugTemplate": "{{title}}",
            "requiredFields": ["price"]
        }),
    )
    .await;
    p.accept(
        "record_created",
        "rec_1",
        json!({"title": "Desk", "price": "80"}),
        "k1",
    )
    .await;
    p.sync().await;
    assert_eq!(p.count(EventStatus::Success).await, 1);
    // The price field is deleted in SmartSuite: records come without it.
    assert!(p.ss.remove_field(&p.table, "price"));
    p.accept("record_updated", "rec_1", json!({"title": "Desk"}), "k2")
        .await;
    p.worker.run_until_empty().await.unwrap();
    let connection = p.connection_row().await;
    assert_eq!(connection.status, ConnectionStatus::Error);
    assert!(
        connection
            .last_error_message
            .as_deref()
            .is_some_and(|m| m.contains("price")),
        "{connection:?}"
    );
    assert_eq!(p.count(EventStatus::DeadLetter).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn schemas_are_read_again_after_their_time_to_live() {
    let p = Pipeline::start_with(Options {
        env: vec![("SCHEMA_TTL_SECS", "1".to_string())],
        ..Options::default()
    })
    .await;
    let reads = || p.calls("GET", &p.collection);
    p.accept_a_create("rec_1").await;
    p.sync().await;
    assert_eq!(reads(), 1);
    p.accept_a_create("rec_2").await;
    p.sync().await;
    assert_eq!(reads(), 1, "still within the time to live");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    p.accept_a_create("rec_3").await;
    p.sync().await;
    assert_eq!(reads(), 2, "read again once a second old");
}
