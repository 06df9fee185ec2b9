//! Error classification, retries of reads only, timeouts, and secrets kept out of errors.

use std::time::{Duration, Instant};

use suiteflow_crypto::SecretString;
use suiteflow_smartsuite_client::{
    Error, ListRecords, NewWebhook, SmartSuiteClient, WebhookFilter,
};

use crate::{builder, client, fixture};

#[tokio::test]
async fn bad_key_and_bad_account() {
    let f = fixture().await;
    let secret = "super-secret-api-key";
    let bad_key = SmartSuiteClient::builder(
        f.smartsuite.api_base(),
        f.smartsuite.webhooks_base(),
        f.smartsuite.account_id(),
        SecretString::new(secret),
    )
    .build()
    .unwrap();
    let err = bad_key.list_solutions().await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    assert!(err.is_credentials());
    for text in [format!("{err:?}"), err.to_string(), format!("{bad_key:?}")] {
        assert!(!text.contains(secret), "{text}");
    }

    let bad_account = SmartSuiteClient::builder(
        f.smartsuite.api_base(),
        f.smartsuite.webhooks_base(),
        "nope1234",
        SecretString::new(f.smartsuite.api_key()),
    )
    .build()
    .unwrap();
    let err = bad_account.list_solutions().await.unwrap_err();
    assert!(
        matches!(&err, Error::Validation { status: 400, message, .. } if message.contains("nope1234")),
        "{err:?}"
    );
}

#[tokio::test]
async fn not_found_forbidden_and_permanent() {
    let f = fixture().await;
    let client = client(&f.smartsuite);
    let err = client
        .get_table("000000000000000000000000")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let err = client
        .get_record(&f.table, "000000000000000000000000")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    f.smartsuite.fail_next(1, 403);
    assert!(matches!(
        client.list_solutions().await,
        Err(Error::Forbidden { .. })
    ));
    f.smartsuite.fail_next(1, 409);
    assert!(matches!(
        client.list_solutions().await,
        Err(Error::Permanent {
            status: Some(409),
            ..
        })
    ));
}

#[tokio::test]
async fn invalid_filters_are_validation() {
    let f = fixture().await;
    let client = client(&f.smartsuite);
    let body = ListRecords {
        filter: Some(serde_json::json!({"fields": []})),
        ..ListRecords::default()
    };
    let err = client
        .list_records(&f.table, &body, 0, 10)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Validation { status: 400, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn reads_retry_5xx_creates_do_not() {
    let f = fixture().await;
    let client = client(&f.smartsuite);
    f.smartsuite.fail_next(2, 502);
    client
        .list_records(&f.table, &ListRecords::default(), 0, 10)
        .await
        .unwrap();
    assert_eq!(
        f.smartsuite.requests().len(),
        3,
        "records/list/ is a read even though it is a POST"
    );

    f.smartsuite.clear_requests();
    f.smartsuite.fail_next(1, 503);
    let err = client
        .create_webhook(&NewWebhook {
            solution_id: f.solution.clone(),
            filter: WebhookFilter::solution(),
            kinds: vec!["RECORD_CREATED".into()],
            notification_url: "http://127.0.0.1:9/hook".into(),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transient {
                status: Some(503),
                outcome_unknown: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(f.smartsuite.requests().len(), 1);

    f.smartsuite.fail_next(5, 500);
    let err = client.list_solutions().await.unwrap_err();
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
}

#[tokio::test]
async fn timeouts_are_transient_and_bounded() {
    let f = fixture().await;
    let client = builder(&f.smartsuite)
        .timeout(Duration::from_millis(200))
        .max_retries(0)
        .build()
        .unwrap();
    // the stand-in would answer after 10 s; the 200 ms timeout ends the call long before
    f.smartsuite.slow_next(1, Duration::from_secs(10));
    let started = Instant::now();
    let err = client.get_table(&f.table).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the timeout fired"
    );
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

    let client = builder(&f.smartsuite)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    f.smartsuite.slow_next(1, Duration::from_secs(2));
    client.get_table(&f.table).await.unwrap();

    f.smartsuite.drop_next_after_apply(1);
    let err = client
        .create_webhook(&NewWebhook {
            solution_id: f.solution.clone(),
            filter: WebhookFilter::solution(),
            kinds: vec!["RECORD_CREATED".into()],
            notification_url: "http://127.0.0.1:9/hook".into(),
        })
        .await
        .unwrap_err();
    assert!(err.outcome_unknown(), "{err:?}");
    assert_eq!(
        f.smartsuite.webhooks().len(),
        1,
        "the create was applied although no answer came"
    );
}
