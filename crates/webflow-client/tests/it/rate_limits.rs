//! Rate-limit headers reach the caller; a 429 is `RateLimited` with Webflow's `Retry-After`.

use std::time::Duration;

use suiteflow_test_support::webflow::WebflowConfig;
use suiteflow_webflow_client::{Error, ListItems};

use crate::{client, stand_in_with};

#[tokio::test]
async fn headers_are_handed_over_and_429_is_rate_limited() {
    let config = WebflowConfig {
        rate_limit: 3,
        rate_window: Duration::from_secs(1),
        ..WebflowConfig::default()
    };
    let (webflow, products) = stand_in_with(config).await;
    let client = client(&webflow);

    let mut remaining = Vec::new();
    for _ in 0..3 {
        let reply = client
            .list_items(&products, &ListItems::default())
            .await
            .unwrap();
        assert_eq!(reply.rate.limit, Some(3));
        remaining.push(reply.rate.remaining.unwrap());
    }
    assert_eq!(remaining, vec![2, 1, 0]);

    let started = std::time::Instant::now();
    let err = client
        .list_items(&products, &ListItems::default())
        .await
        .unwrap_err();
    let Error::RateLimited { retry_after, rate } = err else {
        panic!("expected RateLimited, got {err:?}")
    };
    assert_eq!(retry_after, Duration::from_secs(1));
    assert_eq!(rate.remaining, Some(0));
    assert_eq!(client.last_rate_info().unwrap().remaining, Some(0));
    assert!(
        started.elapsed() < retry_after,
        "a 429 is returned at once, not waited out"
    );
    assert_eq!(webflow.requests().len(), 4, "the 429 was not retried");

    tokio::time::sleep(retry_after).await;
    let reply = client
        .list_items(&products, &ListItems::default())
        .await
        .unwrap();
    assert_eq!(reply.rate.remaining, Some(2));
}

#[tokio::test]
async fn an_injected_429_is_rate_limited_with_its_retry_after() {
    let (webflow, _products) = crate::stand_in().await;
    let client = client(&webflow);
    webflow.inject(suiteflow_test_support::webflow::FaultRule::new(
        suiteflow_test_support::webflow::Fault::Status(429),
        1,
    ));
    let err = client.list_sites().await.unwrap_err();
    assert_eq!(
        err.retry_after(),
        Some(Duration::from_secs(2)),
        "the stand-in's fault sends Retry-After: 2"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn limits_are_per_token() {
    let config = WebflowConfig {
        rate_limit: 1,
        rate_window: Duration::from_secs(60),
        tokens: vec!["one".into(), "two".into()],
        ..WebflowConfig::default()
    };
    let (webflow, _products) = stand_in_with(config).await;
    let first = client(&webflow);
    let second = suiteflow_webflow_client::WebflowClient::new(
        webflow.base_url(),
        suiteflow_crypto::SecretString::new("two"),
    )
    .unwrap();
    first.list_sites().await.unwrap();
    assert!(matches!(
        first.list_sites().await,
        Err(Error::RateLimited { .. })
    ));
    second.list_sites().await.unwrap();
}
