//! Every client method against the stand-in, and paging over 250 items.

use serde_json::json;
use suiteflow_webflow_client::{BulkCreate, FieldType, ItemUpdate, ListItems, Target};

use crate::{client, product, stand_in};

#[tokio::test]
async fn sites_and_collections_are_read() {
    let (webflow, products) = stand_in().await;
    let client = client(&webflow);

    let sites = client.list_sites().await.unwrap().value;
    assert_eq!(sites.len(), 1);
    assert_eq!(sites[0].id, webflow.site_id());
    let site = client.get_site(&webflow.site_id()).await.unwrap().value;
    assert_eq!(
        site.primary_cms_locale_id(),
        Some(webflow.cms_locale_id().as_str())
    );
    assert_eq!(site.cms_locale_ids().len(), 2);

    let collections = client
        .list_collections(&webflow.site_id())
        .await
        .unwrap()
        .value;
    assert_eq!(
        collections
            .iter()
            .map(|c| c.id.as_str())
            .collect::<Vec<_>>(),
        vec![products.as_str()]
    );

    let collection = client.get_collection(&products).await.unwrap().value;
    let slugs: Vec<&str> = collection.fields.iter().map(|f| f.slug.as_str()).collect();
    assert_eq!(slugs, ["name", "slug", "price", "sku", "color", "in-stock"]);
    assert!(collection.field("sku").unwrap().is_required);
    assert_eq!(
        collection.field("price").unwrap().field_type,
        FieldType::Number
    );
    let color = collection.field("color").unwrap();
    assert_eq!(
        color.option_id("Blue"),
        webflow.option_id(&products, "color", "Blue")
    );
    assert_eq!(color.options().len(), 2);

    // every call carried the bearer token and hit the /v2 base path
    let requests = webflow.requests();
    assert_eq!(requests.len(), 4);
    for r in &requests {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {}", webflow.token()).as_str())
        );
        assert!(r.path.starts_with("/v2/"), "{}", r.path);
    }
}

#[tokio::test]
async fn single_item_lifecycle() {
    let (webflow, products) = stand_in().await;
    let client = client(&webflow);
    let blue = webflow.option_id(&products, "color", "Blue").unwrap();

    let created = client
        .create_item(
            &products,
            &product("mug").field("color", blue.clone()),
            Target::Staged,
        )
        .await
        .unwrap();
    let item = created.value;
    assert_eq!(item.slug(), Some("mug"));
    assert!(item.last_published.is_none());
    assert!(created.rate.remaining.is_some());

    let got = client
        .get_item(&products, &item.id, Target::Staged)
        .await
        .unwrap()
        .value;
    assert_eq!(got.field_data["color"], json!(blue));

    let changes = suiteflow_webflow_client::ItemData::default().field("price", 12.5);
    let updated = client
        .update_item(&products, &item.id, &changes, Target::Staged)
        .await
        .unwrap()
        .value;
    assert_eq!(updated.field_data["price"], json!(12.5));
    assert_eq!(
        updated.field_data["sku"],
        json!("SKU-mug"),
        "a PATCH keeps the other fields"
    );

    let published = client
        .publish_items(&products, std::slice::from_ref(&item.id))
        .await
        .unwrap()
        .value;
    assert_eq!(published.published_item_ids, vec![item.id.clone()]);
    assert!(published.errors.is_empty());
    assert_eq!(webflow.live_items(&products).len(), 1);

    let live = suiteflow_webflow_client::ItemData::default().field("price", 14);
    client
        .update_item(&products, &item.id, &live, Target::Live)
        .await
        .unwrap();
    let live_item = client
        .get_item(&products, &item.id, Target::Live)
        .await
        .unwrap()
        .value;
    assert_eq!(live_item.field_data["price"], json!(14));
    assert!(live_item.last_published.is_some());

    client.unpublish_item(&products, &item.id).await.unwrap();
    assert!(webflow.live_items(&products).is_empty());
    assert_eq!(
        webflow.items(&products).len(),
        1,
        "unpublishing keeps the item"
    );

    client.delete_item(&products, &item.id).await.unwrap();
    assert!(webflow.items(&products).is_empty());

    let methods: Vec<(String, String)> = webflow
        .requests()
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    let c = &products;
    let i = &item.id;
    assert_eq!(
        methods,
        vec![
            ("POST".into(), format!("/v2/collections/{c}/items")),
            ("GET".into(), format!("/v2/collections/{c}/items/{i}")),
            ("PATCH".into(), format!("/v2/collections/{c}/items/{i}")),
            ("POST".into(), format!("/v2/collections/{c}/items/publish")),
            (
                "PATCH".into(),
                format!("/v2/collections/{c}/items/{i}/live")
            ),
            ("GET".into(), format!("/v2/collections/{c}/items/{i}/live")),
            (
                "DELETE".into(),
                format!("/v2/collections/{c}/items/{i}/live")
            ),
            ("DELETE".into(), format!("/v2/collections/{c}/items/{i}")),
        ]
    );
}

#[tokio::test]
async fn create_live_publishes_at_once() {
    let (webflow, products) = stand_in().await;
    let client = client(&webflow);
    let item = client
        .create_item(&products, &product("live-one"), Target::Live)
        .await
        .unwrap()
        .value;
    assert!(item.last_published.is_some());
    assert!(!item.is_draft);
    let page = client
        .list_items(
            &products,
            &ListItems {
                target: Target::Live,
                ..ListItems::default()
            },
        )
        .await
        .unwrap()
        .value;
    assert_eq!(page.items.len(), 1);
    assert_eq!(
        webflow.requests()[0].body["fieldData"]["slug"],
        json!("live-one")
    );
}

#[tokio::test]
async fn bulk_calls_and_paging_over_250_items() {
    let (webflow, products) = stand_in().await;
    let client = client(&webflow);
    let all: Vec<_> = (0..250).map(|n| product(&format!("item-{n:03}"))).collect();
    let mut ids = Vec::new();
    for chunk in all.chunks(100) {
        let created = client
            .create_items(&products, chunk, Target::Staged)
            .await
            .unwrap()
            .value;
        assert_eq!(created.len(), chunk.len());
        ids.extend(created.into_iter().map(|i| i.id));
    }
    assert_eq!(webflow.items(&products).len(), 250);

    webflow.clear_requests();
    let listed = client
        .list_all_items(&products, &ListItems::default())
        .await
        .unwrap()
        .value;
    assert_eq!(listed.len(), 250);
    assert_eq!(listed[0].slug(), Some("item-000"));
    assert_eq!(listed[249].slug(), Some("item-249"));
    let offsets: Vec<Option<String>> = webflow
        .requests()
        .iter()
        .map(|r| r.query_param("offset"))
        .collect();
    assert_eq!(
        offsets,
        vec![Some("0".into()), Some("100".into()), Some("200".into())]
    );

    // a smaller page size pages further
    let listed = client
        .list_all_items(
            &products,
            &ListItems {
                limit: Some(60),
                offset: 10,
                ..ListItems::default()
            },
        )
        .await
        .unwrap()
        .value;
    assert_eq!(listed.len(), 240);

    let updates: Vec<ItemUpdate> = ids[..100]
        .iter()
        .map(|id| ItemUpdate {
            id: id.clone(),
            data: suiteflow_webflow_client::ItemData::default().field("price", 99),
        })
        .collect();
    let updated = client
        .update_items(&products, &updates, Target::Staged)
        .await
        .unwrap()
        .value;
    assert_eq!(updated.len(), 100);
    assert!(
        webflow.items(&products)[..100]
            .iter()
            .all(|i| i["fieldData"]["price"] == json!(99))
    );

    let published = client
        .publish_items(&products, &ids[..100])
        .await
        .unwrap()
        .value;
    assert_eq!(published.published_item_ids.len(), 100);
    let live_updated = client
        .update_items(&products, &updates[..2], Target::Live)
        .await
        .unwrap()
        .value;
    assert_eq!(live_updated.len(), 2);
    client.unpublish_items(&products, &ids[..50]).await.unwrap();
    assert_eq!(webflow.live_items(&products).len(), 50);
    client.delete_items(&products, &ids[..100]).await.unwrap();
    assert_eq!(webflow.items(&products).len(), 150);
}

#[tokio::test]
async fn find_by_slug_and_bulk_create_in_locales() {
    let (webflow, products) = stand_in().await;
    let client = client(&webflow);
    assert!(
        client
            .find_item_by_slug(&products, "nope")
            .await
            .unwrap()
            .value
            .is_none()
    );
    let bulk = BulkCreate {
        cms_locale_ids: vec![webflow.cms_locale_id()],
        is_draft: Some(false),
        field_data: vec![product("a").field_data, product("b").field_data],
        ..BulkCreate::default()
    };
    let created = client
        .create_items_bulk(&products, &bulk)
        .await
        .unwrap()
        .value;
    assert_eq!(created.len(), 2);
    let found = client
        .find_item_by_slug(&products, "b")
        .await
        .unwrap()
        .value
        .unwrap();
    assert_eq!(found.id, created[1].id);
    assert_eq!(
        webflow
            .requests()
            .last()
            .unwrap()
            .query_param("slug")
            .as_deref(),
        Some("b")
    );
}

#[tokio::test]
async fn publish_reports_partial_failure() {
    let (webflow, products) = stand_in().await;
    let client = client(&webflow);
    let item = client
        .create_item(&products, &product("p"), Target::Staged)
        .await
        .unwrap()
        .value;
    let result = client
        .publish_items(
            &products,
            &[item.id.clone(), "000000000000000000000000".into()],
        )
        .await
        .unwrap()
        .value;
    assert_eq!(result.published_item_ids, vec![item.id]);
    assert_eq!(result.errors.len(), 1);
}

#[tokio::test]
async fn listing_can_be_limited_to_the_items_created_since_an_instant() {
    let (webflow, products) = stand_in().await;
    let client = client(&webflow);
    for slug in ["before-1", "before-2"] {
        client
            .create_item(&products, &product(slug), Target::Staged)
            .await
            .unwrap();
    }
    // The stand-in stamps createdOn to the millisecond, like Webflow.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let since = time::OffsetDateTime::now_utc();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    client
        .create_item(&products, &product("after"), Target::Staged)
        .await
        .unwrap();

    webflow.clear_requests();
    let listed = client
        .list_all_items(
            &products,
            &ListItems {
                created_since: Some(since),
                ..ListItems::default()
            },
        )
        .await
        .unwrap()
        .value;
    let slugs: Vec<_> = listed.iter().filter_map(|i| i.slug()).collect();
    assert_eq!(slugs, ["after"]);
    let sent = webflow.requests()[0].query_param("createdOn[gte]").unwrap();
    assert_eq!(
        time::OffsetDateTime::parse(&sent, &time::format_description::well_known::Rfc3339).unwrap(),
        since,
        "the instant is sent as RFC 3339 in UTC: {sent}"
    );
    assert!(sent.ends_with('Z'), "{sent}");
}
