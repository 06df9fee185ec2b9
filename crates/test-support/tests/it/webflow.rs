//! `WebflowStandIn::remove_field`: a field deleted from a collection's schema stays in the items
//! that held it, and later writes naming it are refused.

use serde_json::{Value, json};
use suiteflow_test_support::webflow::{CollectionSpec, FieldSpec, WebflowStandIn};

#[tokio::test]
async fn a_removed_field_stays_in_items_and_is_refused_in_writes() {
    let webflow = WebflowStandIn::start().await.unwrap();
    let products = webflow
        .add_collection(CollectionSpec::new("Products").field(FieldSpec::new("price", "Number")));
    let ids = webflow
        .seed_items(
            &products,
            vec![json!({"name": "Mug", "slug": "mug", "price": 12})],
            false,
        )
        .unwrap();

    assert!(webflow.remove_field(&products, "price"));
    assert!(!webflow.remove_field(&products, "price"));
    assert!(!webflow.remove_field("no-such-collection", "name"));
    let mug = webflow.item_by_slug(&products, "mug").unwrap();
    assert_eq!(mug["fieldData"]["price"], 12);

    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let base = webflow.base_url();
    let collection: Value = http
        .get(format!("{base}/collections/{products}"))
        .bearer_auth(webflow.token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let slugs: Vec<&str> = collection["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["slug"].as_str())
        .collect();
    assert_eq!(slugs, ["name", "slug"]);

    let response = http
        .patch(format!("{base}/collections/{products}/items/{}", ids[0]))
        .bearer_auth(webflow.token())
        .json(&json!({"fieldData": {"price": 13}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["details"],
        json!([{"param": "price", "description": "Field not described in schema"}])
    );
    let mug = webflow.item_by_slug(&products, "mug").unwrap();
    assert_eq!(mug["fieldData"]["price"], 12);
}
