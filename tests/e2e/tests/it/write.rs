//! Webhook in, Webflow item out: creates, updates, deletes, slugs, drafts, pulls.

use serde_json::json;
use suiteflow_store::EventStatus;

use crate::support::*;

fn item_named<'a>(items: &'a [serde_json::Value], name: &str) -> Option<&'a serde_json::Value> {
    items.iter().find(|i| i["fieldData"]["name"] == name)
}

#[tokio::test(flavor = "multi_thread")]
async fn create_update_delete_reach_webflow() {
    let p = Pipeline::start().await;
    p.accept(
        "record_created",
        "rec_1",
        json!({"title": "Oak Chair", "price": "120"}),
        "k1",
    )
    .await;
    p.sync().await;
    let items = p.items();
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(item["fieldData"]["name"], "Oak Chair");
    assert_eq!(item["fieldData"]["slug"], "oak-chair");
    assert_eq!(item["fieldData"]["price"], 120.0);
    assert_eq!(item["isDraft"], false, "created live");
    let id = item["id"].clone();

    p.accept(
        "record_updated",
        "rec_1",
        json!({"title": "Oak Chair", "price": "99.5"}),
        "k2",
    )
    .await;
    p.sync().await;
    let items = p.items();
    assert_eq!(items.len(), 1, "updated in place");
    assert_eq!(items[0]["id"], id);
    assert_eq!(items[0]["fieldData"]["price"], 99.5);

    p.accept("record_deleted", "rec_1", json!({}), "k3").await;
    p.sync().await;
    let items = p.items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["isArchived"], true, "archived by default");
    assert_eq!(p.count(EventStatus::Success).await, 3);

    // The day's analytics add up.
    let day = p.analytics().await;
    assert_eq!(
        (day.events_received, day.succeeded, day.dead_lettered),
        (3, 3, 0)
    );
    assert_eq!(day.webflow_calls, 3, "create, update, archive");
    assert!(day.total_duration_ms > 0, "durations are summed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_duplicate_webhook_writes_once_and_an_unchanged_record_makes_no_call() {
    let p = Pipeline::start().await;
    let data = json!({"title": "Lamp", "price": "10"});
    p.accept("record_created", "rec_1", data.clone(), "same")
        .await;
    assert_eq!(
        p.push("record_created", "rec_1", data.clone(), "same")
            .await,
        409
    );
    p.sync().await;
    assert_eq!(p.items().len(), 1);
    // The same content again under a new key: mapped, hashed, skipped.
    let before = p.wf.requests().len();
    p.accept("record_updated", "rec_1", data, "again").await;
    p.sync().await;
    let writes = p.wf.requests()[before..]
        .iter()
        .filter(|r| r.method != "GET")
        .count();
    assert_eq!(writes, 0, "no Webflow write for unchanged content");
}

#[tokio::test(flavor = "multi_thread")]
async fn out_of_order_updates_leave_the_newest_state() {
    let p = Pipeline::start().await;
    for (n, price) in ["1", "2", "3"].iter().enumerate() {
        let data = json!({"title": "Desk", "price": price});
        p.accept("record_updated", "rec_1", data, &format!("v{n}"))
            .await;
    }
    p.sync().await;
    let items = p.items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["fieldData"]["price"], 3.0);
    assert_eq!(
        p.count(EventStatus::Skipped).await,
        2,
        "older events superseded"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_taken_slug_gets_a_suffix() {
    let p = Pipeline::start().await;
    p.accept(
        "record_created",
        "a",
        json!({"title": "Stool", "price": "1"}),
        "ka",
    )
    .await;
    p.accept(
        "record_created",
        "b",
        json!({"title": "Stool", "price": "2"}),
        "kb",
    )
    .await;
    p.sync().await;
    let mut slugs: Vec<String> = p
        .items()
        .iter()
        .map(|i| i["fieldData"]["slug"].as_str().unwrap().to_string())
        .collect();
    slugs.sort();
    assert_eq!(slugs, ["stool", "stool-1"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_smartsuite_ping_pulls_events_into_items() {
    let p = Pipeline::start().await;
    p.register_smartsuite_webhook("ping-token-123").await;
    p.ss.insert_record(&p.table, json!({"title": "Bench", "price": "42"}));
    p.ss.insert_record(&p.table, json!({"title": "Shelf", "price": "17"}));
    // The stand-in pings the ingress; wait for the pull to be queued.
    assert!(p.wait_for_queued().await, "the ping did not queue a pull");
    p.sync().await;
    let items = p.items();
    assert!(
        item_named(&items, "Bench").is_some() && item_named(&items, "Shelf").is_some(),
        "{items:?}"
    );
    assert_eq!(items.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn status_behavior_drafts_and_archives_items() {
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
            "statusBehavior": {"source": "status.value", "draft": ["draft"], "archived": ["gone"]}
        }),
    )
    .await;
    let live = json!({"title": "Lamp", "price": "1", "status": {"value": "live"}});
    p.accept("record_created", "r", live, "k1").await;
    p.sync().await;
    let item = p.wf.item_by_slug(&p.collection, "lamp").expect("created");
    assert_eq!(item["isDraft"], false);
    assert_eq!(p.wf.live_items(&p.collection).len(), 1, "published");

    // Back to draft: staged, and taken off the live site.
    let draft = json!({"title": "Lamp", "price": "1", "status": {"value": "draft"}});
    p.accept("record_updated", "r", draft, "k2").await;
    p.sync().await;
    assert_eq!(
        p.wf.item_by_slug(&p.collection, "lamp").unwrap()["isDraft"],
        true
    );
    assert_eq!(p.wf.live_items(&p.collection).len(), 0, "unpublished");

    let gone = json!({"title": "Lamp", "price": "1", "status": {"value": "gone"}});
    p.accept("record_updated", "r", gone, "k3").await;
    p.sync().await;
    assert_eq!(
        p.wf.item_by_slug(&p.collection, "lamp").unwrap()["isArchived"],
        true
    );
    assert_eq!(p.count(EventStatus::Success).await, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_behaviors_unpublish_or_delete_the_item() {
    for (behavior, check) in [("unpublish", "unpublished"), ("delete", "deleted")] {
        let p = Pipeline::start().await;
        suiteflow_test_support::fixtures::set_mapping(
            p.db.url(),
            p.connection,
            json!({
                "fieldMap": {"name": {"type": "direct", "source": "title"}, "price": {"type": "direct", "source": "price"}},
                "slugTemplate": "{{title}}",
                "deleteBehavior": behavior
            }),
        )
        .await;
        p.accept(
            "record_created",
            "r",
            json!({"title": "Vase", "price": "2"}),
            "k1",
        )
        .await;
        p.sync().await;
        assert_eq!(p.wf.live_items(&p.collection).len(), 1);
        p.accept("record_deleted", "r", json!({}), "k2").await;
        p.sync().await;
        match check {
            "unpublished" => {
                assert_eq!(p.items().len(), 1, "kept staged");
                assert_eq!(p.wf.live_items(&p.collection).len(), 0, "off the live site");
            }
            _ => {
                assert!(p.items().is_empty(), "deleted: {:?}", p.items());
                assert!(
                    p.wf.live_items(&p.collection).is_empty(),
                    "the live copy is taken down too: {:?}",
                    p.wf.live_items(&p.collection)
                );
                let deletes: Vec<String> =
                    p.wf.requests()
                        .iter()
                        .filter(|r| r.method == "DELETE")
                        .map(|r| r.path.clone())
                        .collect();
                assert!(
                    deletes.len() == 2
                        && deletes[0].ends_with("/live")
                        && !deletes[1].ends_with("/live"),
                    "the live item, then the staged one: {deletes:?}"
                );
            }
        }
        assert_eq!(p.count(EventStatus::Success).await, 2, "{behavior}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_keeps_webflows_answer_for_its_item_without_field_data() {
    let p = Pipeline::start().await;
    p.accept(
        "record_created",
        "rec_1",
        json!({"title": "Oak Chair", "price": "120"}),
        "k1",
    )
    .await;
    p.sync().await;
    let items = p.items();
    let item = &items[0];
    let events = p.events_of("rec_1").await;
    let response = events[0]
        .webflow_response
        .as_ref()
        .expect("the answer is kept");
    assert_eq!(response["id"], item["id"], "{response}");
    assert_eq!(response["isDraft"], false, "{response}");
    assert_eq!(
        response["lastPublished"], item["lastPublished"],
        "{response}"
    );
    let keys: Vec<&String> = response.as_object().unwrap().keys().collect();
    assert_eq!(
        keys.len(),
        3,
        "only id, lastPublished and isDraft: {response}"
    );
    assert!(!response.to_string().contains("Oak Chair"), "{response}");
}
