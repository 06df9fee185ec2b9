//! The stand-in itself is strict where Webflow is: raw requests, no client in between.

use serde_json::{Value, json};

use crate::stand_in;

async fn raw(
    webflow: &suiteflow_test_support::webflow::WebflowStandIn,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    suiteflow_webflow_client::install_crypto_provider();
    let url = format!("{}{path}", webflow.base_url());
    let mut request = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(webflow.token());
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn duplicate_slug_answers_the_real_body() {
    let (webflow, products) = stand_in().await;
    let item = json!({"fieldData": {"name": "A", "slug": "test-blog-post", "sku": "1"}});
    let path = format!("/collections/{products}/items");
    assert_eq!(
        raw(&webflow, reqwest::Method::POST, &path, Some(item.clone()))
            .await
            .0,
        202
    );
    let (status, body) = raw(&webflow, reqwest::Method::POST, &path, Some(item)).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"message":"Validation Error","code":"validation_error","externalReference":null,
               "details":[{"param":"slug","description":"Unique value is already in database: 'test-blog-post'"}]})
    );
}

#[tokio::test]
async fn bulk_cap_paging_cap_and_auth_are_enforced() {
    let (webflow, products) = stand_in().await;
    let items: Vec<Value> = (0..101)
        .map(|n| json!({"fieldData": {"name": "n", "slug": format!("s{n}"), "sku": "1"}}))
        .collect();
    let path = format!("/collections/{products}/items");
    let (status, body) = raw(
        &webflow,
        reqwest::Method::POST,
        &path,
        Some(json!({"items": items})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "validation_error");
    assert!(webflow.items(&products).is_empty());

    let (status, _) = raw(
        &webflow,
        reqwest::Method::GET,
        &format!("{path}?limit=101"),
        None,
    )
    .await;
    assert_eq!(status, 400);

    // fields at the top level instead of inside fieldData
    let (status, body) = raw(
        &webflow,
        reqwest::Method::POST,
        &path,
        Some(json!({"name": "x", "slug": "x"})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["details"][0]["description"],
        "Field not described in schema"
    );

    // re-sending an item's own unchanged slug in a PATCH fails like the real API
    let (_, created) = raw(
        &webflow,
        reqwest::Method::POST,
        &path,
        Some(json!({"fieldData": {"name": "n", "slug": "own", "sku": "1"}})),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let (status, _) = raw(
        &webflow,
        reqwest::Method::PATCH,
        &format!("{path}/{id}"),
        Some(json!({"fieldData": {"slug": "own"}})),
    )
    .await;
    assert_eq!(status, 400);

    suiteflow_webflow_client::install_crypto_provider();
    let response = reqwest::Client::new()
        .get(format!("{}/sites", webflow.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let response = reqwest::Client::new()
        .get(format!("{}/sites", webflow.base_url()))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
}

#[tokio::test]
async fn a_created_on_filter_that_is_not_a_date_time_is_refused() {
    let (webflow, products) = stand_in().await;
    let path = format!("/collections/{products}/items?createdOn%5Bgte%5D=yesterday");
    let (status, body) = raw(&webflow, reqwest::Method::GET, &path, None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["details"][0]["param"], json!("createdOn[gte]"));
}
