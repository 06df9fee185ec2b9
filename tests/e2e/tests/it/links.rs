//! Links that resolve later: a product written before its category is a partial success, and
//! when the category's item is written the product is written again with the reference set.

use serde_json::{Value, json};
use suiteflow_store::EventStatus;
use suiteflow_test_support::fixtures::{ConnectionSpec, create_connection, set_mapping, test_keys};
use suiteflow_test_support::webflow::{CollectionSpec, FieldSpec};

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_product_synced_before_its_category_ends_with_the_reference_set() {
    let p = Pipeline::start().await;
    // Categories: their own table and collection, their own connection.
    let categories_table = p.ss.add_table(&p.solution, "Categories", Vec::new());
    let categories_collection = p.wf.add_collection(CollectionSpec::new("Categories"));
    let spec = ConnectionSpec {
        smartsuite_account_id: p.ss.account_id(),
        smartsuite_table_id: categories_table.clone(),
        smartsuite_api_key: p.ss.api_key(),
        webflow_site_id: p.wf.site_id(),
        webflow_collection_id: categories_collection.clone(),
        webflow_token: p.wf.token(),
        rate_limit_per_min: 1000,
        retry_backoff_ms: 1,
        ..ConnectionSpec::default()
    };
    let categories = create_connection(p.db.url(), &test_keys(), &spec).await;
    set_mapping(
        p.db.url(),
        categories,
        json!({"fieldMap": {"name": {"type": "direct", "source": "title"}}, "slugTemplate": "{{title}}"}),
    )
    .await;
    // Products link to a category.
    assert!(p.ss.add_field(
        &p.table,
        json!({"slug": "category_link", "label": "Category", "field_type": "linkedrecordfield",
               "params": {"linked_application": categories_table}}),
    ));
    assert!(p.wf.add_field(&p.collection, FieldSpec::new("category-ref", "Reference")));
    set_mapping(
        p.db.url(),
        p.connection,
        json!({
            "fieldMap": {
                "name": {"type": "direct", "source": "title"},
                "price": {"type": "direct", "source": "price"},
                "category-ref": {"type": "reference", "source": "category_link",
                                 "connection": categories.0.to_string()}
            },
            "slugTemplate": "{{title}}"
        }),
    )
    .await;
    p.ss.set_auto_ping(false);
    let [lighting] =
        p.ss.insert_records(&categories_table, vec![json!({"title": "Lighting"})])
            .try_into()
            .unwrap();
    let lamp_data = json!({"title": "Lamp", "price": "30", "category_link": [lighting]});
    let [lamp] =
        p.ss.insert_records(&p.table, vec![lamp_data.clone()])
            .try_into()
            .unwrap();

    // The product first: its category has no item yet.
    p.accept("record_created", &lamp, lamp_data, "k1").await;
    p.sync().await;
    let [first] = p.events_of(&lamp).await.try_into().unwrap();
    assert_eq!(first.status, EventStatus::Success);
    assert!(first.partial_success, "{first:?}");
    let item = p.wf.item_by_slug(&p.collection, "lamp").unwrap();
    assert!(item["fieldData"]["category-ref"].is_null(), "{item}");

    // Then the category: the product is queued again and its reference filled in.
    let Value::Object(record) = json!({"id": lighting, "title": "Lighting"}) else {
        unreachable!()
    };
    p.enqueue_records(categories, &[(lighting.clone(), Value::Object(record))])
        .await;
    p.sync().await;
    let category_item =
        p.wf.item_by_slug(&categories_collection, "lighting")
            .expect("the category's item");
    let item = p.wf.item_by_slug(&p.collection, "lamp").unwrap();
    assert_eq!(
        item["fieldData"]["category-ref"], category_item["id"],
        "{item}"
    );
    let events = p.events_of(&lamp).await;
    assert_eq!(events.len(), 2, "queued again once: {events:?}");
    let again = events.iter().find(|e| e.id != first.id).unwrap();
    assert_eq!(again.status, EventStatus::Success);
    assert!(!again.partial_success, "{again:?}");
    let store = p.store().await;
    let mut conn = store.get().await.unwrap();
    assert_eq!(
        suiteflow_store::count_pending_links(&mut conn, p.connection)
            .await
            .unwrap(),
        0,
        "nothing waits any more"
    );
}
