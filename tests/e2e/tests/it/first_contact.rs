//! First contact with a live collection: items already there are matched and adopted, never
//! duplicated; a backfill plans before it writes; a burst of saves is one write.

use std::time::Duration;

use serde_json::{Value, json};
use suiteflow_store::EventStatus;
use suiteflow_test_support::fixtures::ConnectionSpec;
use suiteflow_test_support::rows;

use crate::support::*;

/// Webflow requests that changed something (anything but GET, and not refused).
fn webflow_writes(p: &Pipeline) -> Vec<String> {
    p.wf.requests()
        .iter()
        .filter(|r| r.method != "GET" && r.status < 300)
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn id_of_slug(items: &[Value], slug: &str) -> Option<String> {
    items
        .iter()
        .find(|i| i["fieldData"]["slug"] == slug)
        .and_then(|i| i["id"].as_str().map(str::to_owned))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backfill_into_a_filled_collection_adopts_every_item_and_creates_none() {
    let p = Pipeline::start().await;
    // Three CLI runs and the worker, each a client of its own, within a second or two.
    p.ss.set_rate_limit(100, Duration::from_secs(30));
    let n = 5;
    let records = p.ss.insert_records(
        &p.table,
        (0..n)
            .map(|i| json!({"title": format!("Chair {i}"), "price": format!("{}", 10 + i)}))
            .collect(),
    );
    // The site was built first: every record already has its item, two with an older price,
    // and one item matches no record.
    let mut seeded: Vec<Value> = (0..n)
        .map(|i| {
            let price = if i < 2 { 1 } else { 10 + i };
            json!({"name": format!("Chair {i}"), "slug": format!("chair-{i}"), "price": price})
        })
        .collect();
    seeded.push(json!({"name": "Old lamp", "slug": "old-lamp", "price": 3}));
    let seeded_ids = p.wf.seed_items(&p.collection, seeded, true).unwrap();
    p.wf.clear_requests();
    p.ss.clear_requests();

    // The plan, writing nothing anywhere.
    let plan = p.cli(&["backfill", &p.connection.0.to_string(), "--dry-run"]);
    assert_eq!(
        (
            &plan["create"],
            &plan["adopt"],
            &plan["update"],
            &plan["unchanged"],
            &plan["orphans"]
        ),
        (&json!(0), &json!(n), &json!(2), &json!(0), &json!(1)),
        "{plan}"
    );
    assert_eq!(plan["orphanItems"][0]["slug"], "old-lamp", "{plan}");
    assert!(webflow_writes(&p).is_empty(), "{:?}", webflow_writes(&p));
    assert!(
        p.ss.requests()
            .iter()
            .all(|r| r.path.ends_with("/records/list/") || r.method == "GET"),
        "only reads of SmartSuite: {:?}",
        p.ss.requests()
    );
    let reads = p.wf.requests().iter().filter(|r| r.method == "GET").count();
    assert_eq!(
        reads, 2,
        "the collection's schema, then one page of its items"
    );
    assert!(p.all_events().await.is_empty(), "no event was queued");
    let store = p.store().await;
    let mut conn = store.get().await.unwrap();
    assert!(
        suiteflow_store::id_map::entries_of(&mut conn, p.connection)
            .await
            .unwrap()
            .is_empty(),
        "no item was adopted yet"
    );

    // Carried out: the matches are adopted, and only the two stale items are rewritten.
    let done = p.cli(&["backfill", &p.connection.0.to_string()]);
    assert_eq!(done["applied"]["adopted"], n, "{done}");
    assert_eq!(done["applied"]["enqueued"], 2, "{done}");
    p.sync().await;
    let items = p.items();
    assert_eq!(items.len(), n + 1, "no duplicate: {items:?}");
    for (i, id) in seeded_ids.iter().take(n).enumerate() {
        assert_eq!(
            id_of_slug(&items, &format!("chair-{i}")).as_deref(),
            Some(id.as_str()),
            "chair-{i} keeps its item"
        );
    }
    let price_of = |slug: &str| {
        items
            .iter()
            .find(|i| i["fieldData"]["slug"] == slug)
            .unwrap()["fieldData"]["price"]
            .as_f64()
    };
    assert_eq!(price_of("chair-0"), Some(10.0));
    assert_eq!(price_of("chair-1"), Some(11.0));
    assert!(
        !webflow_writes(&p).iter().any(|w| w.starts_with("POST")),
        "nothing was created: {:?}",
        webflow_writes(&p)
    );
    assert_eq!(p.count(EventStatus::Success).await, 2);
    for record in &records {
        let entry = suiteflow_store::id_map::lookup(
            &mut conn,
            suiteflow_store::RecordKey::smartsuite(p.connection, record),
        )
        .await
        .unwrap()
        .expect("every record has its item now");
        assert!(entry.field_data_hash.is_some(), "{entry:?}");
    }

    // The orphan is left alone unless asked; --prune archives it (the default deleteBehavior).
    assert_eq!(
        items
            .iter()
            .find(|i| i["fieldData"]["slug"] == "old-lamp")
            .unwrap()["isArchived"],
        false
    );
    let pruned = p.cli(&["backfill", &p.connection.0.to_string(), "--prune"]);
    assert_eq!(
        (
            &pruned["adopt"],
            &pruned["unchanged"],
            &pruned["applied"]["pruned"]
        ),
        (&json!(0), &json!(n), &json!(1)),
        "{pruned}"
    );
    let lamp = p.wf.item_by_slug(&p.collection, "old-lamp").unwrap();
    assert_eq!(lamp["isArchived"], true, "{lamp}");
    assert!(
        !p.wf
            .live_items(&p.collection)
            .iter()
            .any(|i| i["fieldData"]["slug"] == "old-lamp"),
        "the archived orphan is off the live site too"
    );

    // An item deleted in Webflow since it was written is not "unchanged": it is written again.
    let chair_0 = id_of_slug(&items, "chair-0").unwrap();
    p.wf.clear_requests();
    let client_delete = p
        .http
        .delete(format!(
            "{}/collections/{}/items/{chair_0}",
            p.wf.base_url().as_str().trim_end_matches('/'),
            p.collection
        ))
        .bearer_auth(p.wf.token())
        .send()
        .await
        .unwrap();
    assert!(client_delete.status().is_success(), "{client_delete:?}");
    let again = p.cli(&["backfill", &p.connection.0.to_string(), "--dry-run"]);
    assert_eq!(
        (&again["update"], &again["unchanged"]),
        (&json!(1), &json!(n - 1)),
        "{again}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_item_whose_slug_another_records_create_names_is_not_adopted() {
    let p = Pipeline::start().await;
    p.wf.seed_items(
        &p.collection,
        vec![json!({"name": "Stool", "slug": "stool", "price": 7})],
        true,
    )
    .unwrap();
    // rec_first's create of "stool" is in flight (its outcome unknown): the item may be its.
    let store = p.store().await;
    let mut conn = store.get().await.unwrap();
    suiteflow_store::id_map::record_intent(
        &mut conn,
        suiteflow_store::RecordKey::smartsuite(p.connection, "rec_first"),
        "stool",
    )
    .await
    .unwrap();
    p.accept(
        "record_created",
        "rec_second",
        json!({"title": "Stool", "price": "7"}),
        "k1",
    )
    .await;
    p.sync().await;
    let [event] = p.events_of("rec_second").await.try_into().unwrap();
    assert_eq!(event.status, EventStatus::Success);
    let items = p.items();
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(
        event.webflow_item_id,
        id_of_slug(&items, "stool-1"),
        "the second record got its own item"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn matching_on_a_field_adopts_the_item_that_holds_the_record_id() {
    let p = Pipeline::start().await;
    suiteflow_test_support::fixtures::set_mapping(
        p.db.url(),
        p.connection,
        json!({
            "fieldMap": {
                "name": {"type": "direct", "source": "title"},
                "price": {"type": "direct", "source": "price"},
                "smartsuite-id": {"type": "direct", "source": "id"}
            },
            "slugTemplate": "{{title}}",
            "match": {"on": "field", "webflowField": "smartsuite-id", "source": "id"}
        }),
    )
    .await;
    // An item made by hand with another slug, holding the record's id.
    let [legacy] = p
        .wf
        .seed_items(
            &p.collection,
            vec![json!({"name": "Chair (old)", "slug": "legacy-chair", "price": 5, "smartsuite-id": "rec_7"})],
            true,
        )
        .unwrap()
        .try_into()
        .unwrap();
    // And an item with the slug the record would take, holding no record id: not a match.
    p.wf.seed_items(
        &p.collection,
        vec![json!({"name": "Another chair", "slug": "chair", "price": 1})],
        true,
    )
    .unwrap();
    p.accept(
        "record_created",
        "rec_7",
        json!({"id": "rec_7", "title": "Chair", "price": "120"}),
        "k1",
    )
    .await;
    p.sync().await;
    assert_eq!(p.count(EventStatus::Success).await, 1);
    let items = p.items();
    assert_eq!(items.len(), 2, "adopted, not created: {items:?}");
    let adopted = items.iter().find(|i| i["id"] == legacy.as_str()).unwrap();
    assert_eq!(adopted["fieldData"]["name"], "Chair");
    assert_eq!(adopted["fieldData"]["price"].as_f64(), Some(120.0));
    // The slug it asked for is another item's: it gets the first free suffix.
    assert_eq!(adopted["fieldData"]["slug"], "chair-1");
    assert!(!webflow_writes(&p).iter().any(|w| w.starts_with("POST")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_record_adopts_the_item_with_its_slug_and_an_item_another_record_holds_is_not_taken()
{
    let p = Pipeline::start().await;
    let [desk] =
        p.wf.seed_items(
            &p.collection,
            vec![json!({"name": "Desk", "slug": "desk", "price": 80})],
            true,
        )
        .unwrap()
        .try_into()
        .unwrap();
    // Same content: adopted with no write at all.
    p.accept(
        "record_created",
        "rec_desk",
        json!({"title": "Desk", "price": "80"}),
        "k1",
    )
    .await;
    p.sync().await;
    assert!(webflow_writes(&p).is_empty(), "{:?}", webflow_writes(&p));
    let [event] = p.events_of("rec_desk").await.try_into().unwrap();
    assert_eq!(event.webflow_item_id.as_deref(), Some(desk.as_str()));

    // Another record with the same title: the item is rec_desk's, so it gets its own.
    p.accept(
        "record_created",
        "rec_other",
        json!({"title": "Desk", "price": "95"}),
        "k2",
    )
    .await;
    p.sync().await;
    let items = p.items();
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(id_of_slug(&items, "desk").as_deref(), Some(desk.as_str()));
    let other = items.iter().find(|i| i["fieldData"]["slug"] == "desk-1");
    assert_eq!(other.unwrap()["fieldData"]["price"].as_f64(), Some(95.0));
    assert_eq!(
        items.iter().find(|i| i["id"] == desk.as_str()).unwrap()["fieldData"]["price"].as_f64(),
        Some(80.0),
        "the held item is untouched"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_saves_within_the_sync_delay_make_one_webflow_write() {
    let p = Pipeline::start_with(Options {
        spec: ConnectionSpec {
            rate_limit_per_min: 1000,
            retry_backoff_ms: 1,
            sync_delay_ms: 60_000,
            ..ConnectionSpec::default()
        },
        ..Options::default()
    })
    .await;
    let lamp = |price: &str| json!({"title": "Lamp", "price": price});
    p.accept("record_created", "rec_1", lamp("10"), "k1").await;
    p.accept("record_updated", "rec_1", lamp("12"), "k2").await;
    // Still within the delay: nothing is claimed.
    let summary = p.worker.run_until_empty().await.unwrap();
    assert_eq!(summary.processed, 0);
    assert_eq!(summary.queue_depth, 0, "held events are not claimable yet");
    // The record has been quiet long enough.
    rows::age_events(&mut p.db.connect().await, Duration::from_secs(61)).await;
    p.sync().await;
    let items = p.items();
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0]["fieldData"]["price"].as_f64(),
        Some(12.0),
        "the newest state"
    );
    assert_eq!(webflow_writes(&p).len(), 1, "{:?}", webflow_writes(&p));
    assert_eq!(
        p.count(EventStatus::Skipped).await,
        1,
        "the older save was superseded"
    );
}
