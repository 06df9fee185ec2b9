//! Timeouts, dropped connections and 5xx: retried only when repeating is safe, and a write
//! whose answer was lost says its outcome is unknown.

use std::time::{Duration, Instant};

use suiteflow_test_support::webflow::{Fault, FaultRule};
use suiteflow_webflow_client::{Error, ItemData, ListItems, Target};

use crate::{builder, client, product, stand_in};

#[tokio::test]
async fn idempotent_calls_retry_5xx() {
    let (webflow, products) = stand_in().await;
    let client = client(&webflow);
    webflow.fail_next(2, 500);
    let page = client
        .list_items(&products, &ListItems::default())
        .await
        .unwrap();
    assert!(page.value.items.is_empty());
    assert_eq!(webflow.requests().len(), 3);

    let item = client
        .create_item(&products, &product("p"), Target::Staged)
        .await
        .unwrap()
        .value;
    webflow.clear_requests();
    webflow.inject(FaultRule::new(Fault::Status(503), 1).method("PATCH"));
    client
        .update_item(
            &products,
            &item.id,
            &ItemData::default().field("price", 2),
            Target::Staged,
        )
        .await
        .unwrap();
    assert_eq!(
        webflow
            .requests()
            .iter()
            .filter(|r| r.method == "PATCH")
            .count(),
        2
    );

    webflow.clear_requests();
    webflow.fail_next(1, 502);
    client.delete_item(&products, &item.id).await.unwrap();
    assert_eq!(webflow.requests().len(), 2);
}

#[tokio::test]
async fn retries_are_bounded() {
    let (webflow, products) = stand_in().await;
    let client = builder(&webflow).max_retries(2).build().unwrap();
    webflow.fail_next(5, 500);
    let err = client.get_collection(&products).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transient {
                status: Some(500),
                outcome_unknown: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(webflow.requests().len(), 3);
}

#[tokio::test]
async fn creates_are_never_retried() {
    let (webflow, products) = stand_in().await;
    let client = client(&webflow);
    webflow.fail_next(1, 500);
    let err = client
        .create_item(&products, &product("once"), Target::Staged)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transient {
                status: Some(500),
                outcome_unknown: true,
                ..
            }
        ),
        "{err:?}"
    );
    webflow.fail_next(1, 500);
    let err = client
        .publish_items(&products, &["000000000000000000000000".into()])
        .await
        .unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(
        webflow
            .requests()
            .iter()
            .filter(|r| r.method == "POST")
            .count(),
        2
    );
}

#[tokio::test]
async fn a_create_that_times_out_is_outcome_unknown_and_found_by_slug() {
    let (webflow, products) = stand_in().await;
    let client = builder(&webflow)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    // the stand-in would answer after 10 s; the 200 ms timeout ends the call long before
    webflow.slow_next(1, Duration::from_secs(10));
    let started = Instant::now();
    let err = client
        .create_item(&products, &product("slow"), Target::Staged)
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the timeout fired"
    );
    assert!(err.outcome_unknown(), "{err:?}");
    assert_eq!(webflow.requests().len(), 1, "not retried");
    let found = client
        .find_item_by_slug(&products, "slow")
        .await
        .unwrap()
        .value;
    assert!(
        found.is_some(),
        "the stand-in applied the create before answering slowly"
    );
}

#[tokio::test]
async fn a_read_that_times_out_is_retried() {
    let (webflow, products) = stand_in().await;
    let client = builder(&webflow)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    webflow.slow_next(1, Duration::from_secs(2));
    client.get_collection(&products).await.unwrap();
    assert_eq!(webflow.requests().len(), 2);

    let client = builder(&webflow)
        .timeout(Duration::from_millis(100))
        .max_retries(0)
        .build()
        .unwrap();
    webflow.slow_next(1, Duration::from_secs(2));
    let err = client.get_collection(&products).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transient {
                status: None,
                outcome_unknown: false,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_dropped_connection_after_a_create_is_outcome_unknown() {
    let (webflow, products) = stand_in().await;
    let client = client(&webflow);
    webflow.drop_next_after_apply(1);
    let err = client
        .create_items(&products, &[product("d1"), product("d2")], Target::Staged)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transient {
                status: None,
                outcome_unknown: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(webflow.items(&products).len(), 2, "the write was applied");
    assert!(webflow.requests()[0].dropped);
}

#[tokio::test]
async fn a_refused_connection_is_transient_and_not_applied() {
    let (webflow, products) = stand_in().await;
    let base = webflow.base_url();
    let token = webflow.token();
    drop(webflow);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let client = suiteflow_webflow_client::WebflowClient::builder(
        base,
        suiteflow_crypto::SecretString::new(token),
    )
    .max_retries(0)
    .build()
    .unwrap();
    let err = client
        .create_item(&products, &product("x"), Target::Staged)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transient {
                outcome_unknown: false,
                ..
            }
        ),
        "{err:?}"
    );
}
