//! Error classification: each Webflow answer lands in the variant a caller acts on.

use suiteflow_crypto::SecretString;
use suiteflow_webflow_client::{Error, ItemData, ItemUpdate, Target, WebflowClient};

use crate::{client, product, stand_in};

#[tokio::test]
async fn duplicate_slug_is_slug_taken() {
    let (webflow, products) = stand_in().await;
    let client = client(&webflow);
    client
        .create_item(&products, &product("dup"), Target::Staged)
        .await
        .unwrap();
    let err = client
        .create_item(&products, &product("dup"), Target::Live)
        .await
        .unwrap_err();
    match &err {
        Error::SlugTaken { slug, details, .. } => {
            assert_eq!(slug, "dup");
            assert_eq!(details[0].param.as_deref(), Some("slug"));
        }
        other => panic!("expected SlugTaken, got {other:?}"),
    }
    assert!(!err.is_retryable());
    // a duplicate inside one bulk call too
    let err = client
        .create_items(&products, &[product("x"), product("x")], Target::Staged)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::SlugTaken { ref slug, .. } if slug == "x"),
        "{err:?}"
    );
    // and a PATCH onto another item's slug
    let other = client
        .create_item(&products, &product("other"), Target::Staged)
        .await
        .unwrap()
        .value;
    let err = client
        .update_item(
            &products,
            &other.id,
            &ItemData::default().field("slug", "dup"),
            Target::Staged,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SlugTaken { .. }), "{err:?}");
}

#[tokio::test]
async fn invalid_field_data_is_validation() {
    let (webflow, products) = stand_in().await;
    let client = client(&webflow);

    let err = client
        .create_item(&products, &product("a").field("Price", 3), Target::Staged)
        .await
        .unwrap_err();
    let Error::Validation { details, .. } = &err else {
        panic!("expected Validation, got {err:?}")
    };
    assert_eq!(details[0].param.as_deref(), Some("Price"));
    assert_eq!(details[0].description, "Field not described in schema");

    let err = client
        .create_item(
            &products,
            &product("b").field("color", "Blue"),
            Target::Staged,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation { details, .. } if details[0].param.as_deref() == Some("color")),
        "{err:?}"
    );

    let mut missing = product("c");
    missing.field_data.remove("sku");
    let err = client
        .create_item(&products, &missing, Target::Staged)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation { details, .. } if details[0].param.as_deref() == Some("sku")),
        "{err:?}"
    );

    let mut no_slug = product("d");
    no_slug.field_data.remove("slug");
    let err = client
        .create_item(&products, &no_slug, Target::Staged)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation { details, .. } if details[0].param.as_deref() == Some("slug")),
        "{err:?}"
    );

    let err = client
        .create_item(
            &products,
            &product("e").field("price", "12"),
            Target::Staged,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation { .. }), "{err:?}");
    assert!(
        webflow.items(&products).is_empty(),
        "nothing invalid was stored"
    );
}

#[tokio::test]
async fn batches_over_100_are_refused_before_sending() {
    let (webflow, products) = stand_in().await;
    let client = client(&webflow);
    let items: Vec<_> = (0..101).map(|n| product(&format!("s{n}"))).collect();
    let err = client
        .create_items(&products, &items, Target::Staged)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation { .. }));
    let err = client.delete_items(&products, &[]).await.unwrap_err();
    assert!(matches!(err, Error::Validation { .. }));
    assert!(webflow.requests().is_empty());
}

#[tokio::test]
async fn live_patch_of_never_published_item_is_never_published() {
    let (webflow, products) = stand_in().await;
    let client = client(&webflow);
    let item = client
        .create_item(&products, &product("draft"), Target::Staged)
        .await
        .unwrap()
        .value;
    let changes = ItemData::default().field("price", 1);
    let err = client
        .update_item(&products, &item.id, &changes, Target::Live)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NeverPublished { .. }), "{err:?}");
    let err = client
        .update_items(
            &products,
            &[ItemUpdate {
                id: item.id.clone(),
                data: changes.clone(),
            }],
            Target::Live,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NeverPublished { .. }), "{err:?}");
    // the documented fallback works: staged PATCH, then publish
    client
        .update_item(&products, &item.id, &changes, Target::Staged)
        .await
        .unwrap();
    client
        .publish_items(&products, std::slice::from_ref(&item.id))
        .await
        .unwrap();
    client
        .update_item(&products, &item.id, &changes, Target::Live)
        .await
        .unwrap();
}

#[tokio::test]
async fn bad_token_is_unauthorized_and_never_shown() {
    let (webflow, products) = stand_in().await;
    let secret = "very-secret-token-value";
    let client = WebflowClient::new(webflow.base_url(), SecretString::new(secret)).unwrap();
    let err = client.get_collection(&products).await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    assert!(err.is_credentials());
    for text in [format!("{err:?}"), err.to_string(), format!("{client:?}")] {
        assert!(!text.contains(secret), "{text}");
    }
}

#[tokio::test]
async fn forbidden_and_not_found() {
    let (webflow, products) = stand_in().await;
    let client = client(&webflow);
    webflow.fail_next(1, 403);
    let err = client.list_sites().await.unwrap_err();
    assert!(matches!(err, Error::Forbidden { .. }), "{err:?}");

    let err = client
        .get_item(&products, "000000000000000000000000", Target::Staged)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let err = client
        .get_collection("000000000000000000000000")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");

    let item = client
        .create_item(&products, &product("gone"), Target::Staged)
        .await
        .unwrap()
        .value;
    client.delete_item(&products, &item.id).await.unwrap();
    let err = client.delete_item(&products, &item.id).await.unwrap_err();
    assert!(
        matches!(err, Error::NotFound { .. }),
        "a repeated DELETE is NotFound: {err:?}"
    );
}

#[tokio::test]
async fn other_4xx_is_permanent() {
    let (webflow, _products) = stand_in().await;
    let client = client(&webflow);
    webflow.fail_next(1, 418);
    let err = client.list_sites().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Permanent {
                status: Some(418),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}
