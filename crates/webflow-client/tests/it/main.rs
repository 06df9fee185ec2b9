//! Integration tests of the Webflow client against the local stand-in (and Prism, in
//! `contract`). Loopback only; every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod contract;
mod errors;
mod items;
mod rate_limits;
mod stand_in;
mod timeouts;

use std::time::Duration;

use suiteflow_crypto::SecretString;
use suiteflow_test_support::webflow::{CollectionSpec, FieldSpec, WebflowConfig, WebflowStandIn};
use suiteflow_webflow_client::{WebflowClient, WebflowClientBuilder};

/// A stand-in with a generous rate limit and one "Products" collection.
pub async fn stand_in() -> (WebflowStandIn, String) {
    stand_in_with(WebflowConfig {
        rate_limit: 1000,
        rate_window: Duration::from_secs(60),
        ..WebflowConfig::default()
    })
    .await
}

pub async fn stand_in_with(config: WebflowConfig) -> (WebflowStandIn, String) {
    let webflow = WebflowStandIn::start_with(config).await.unwrap();
    let products = webflow.add_collection(
        CollectionSpec::new("Products")
            .field(FieldSpec::new("price", "Number"))
            .field(FieldSpec::new("sku", "PlainText").required())
            .field(FieldSpec::option("color", &["Red", "Blue"]))
            .field(FieldSpec::new("in-stock", "Switch")),
    );
    (webflow, products)
}

/// A builder pointed at the stand-in, with short backoffs so retries stay fast.
pub fn builder(webflow: &WebflowStandIn) -> WebflowClientBuilder {
    WebflowClient::builder(webflow.base_url(), SecretString::new(webflow.token()))
        .retry_backoff(Duration::from_millis(10), Duration::from_millis(50))
}

pub fn client(webflow: &WebflowStandIn) -> WebflowClient {
    builder(webflow).build().unwrap()
}

/// A valid product with this slug.
pub fn product(slug: &str) -> suiteflow_webflow_client::ItemData {
    suiteflow_webflow_client::ItemData::named(format!("Product {slug}"), slug)
        .field("sku", format!("SKU-{slug}"))
        .field("price", 10)
}
