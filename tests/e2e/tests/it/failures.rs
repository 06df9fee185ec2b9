//! Webflow and SmartSuite failing: retries, reschedules, dead letters, refused credentials,
//! creates whose answer was lost, and rate limits.

use std::time::Duration;

use serde_json::json;
use suiteflow_store::{ConnectionStatus, EventStatus};
use suiteflow_test_support::fixtures::ConnectionSpec;
use suiteflow_test_support::webflow::{Fault, FaultRule};
use time::OffsetDateTime;

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn webflow_500s_and_429s_end_in_success() {
    let p = Pipeline::start().await;
    p.wf.fail_next(3, 500);
    for n in 0..5 {
        let data = json!({"title": format!("Item {n}"), "price": "5"});
        p.accept("record_created", &format!("r{n}"), data, &format!("k{n}"))
            .await;
    }
    p.sync().await;
    assert_eq!(p.items().len(), 5);
    assert_eq!(p.count(EventStatus::Success).await, 5);
    // The three 500s answered the collection read, before any event was tried: the events
    // come back later without having spent an attempt.
    let attempts: Vec<i32> = p.all_events().await.iter().map(|e| e.attempts).collect();
    assert_eq!(
        attempts,
        vec![1; 5],
        "one attempt each: the write that succeeded"
    );

    p.wf.fail_next(1, 429);
    p.accept(
        "record_created",
        "r9",
        json!({"title": "After 429", "price": "1"}),
        "k9",
    )
    .await;
    p.worker.run_until_empty().await.unwrap();
    // Rescheduled for Retry-After without spending an attempt, saying what it waits for.
    let waiting = p.count(EventStatus::Queued).await;
    assert_eq!(waiting, 1);
    let [event] = p.events_of("r9").await.try_into().unwrap();
    assert_eq!(event.attempts, 0, "a 429 does not spend an attempt");
    let detail = event.error_detail.expect("the wait is explained");
    assert_eq!(detail["waitingFor"], "webflow_rate_limit", "{detail}");
    assert_eq!(detail["status"], 429, "{detail}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_token_stops_the_connection_and_keeps_its_events() {
    let p = Pipeline::start().await;
    // The token is revoked: the connection now holds one Webflow refuses.
    {
        let keys = suiteflow_test_support::fixtures::test_keys();
        let sealed = suiteflow_store::SecretColumn::WebflowToken
            .seal(&keys, p.connection, "revoked-token")
            .unwrap();
        let changes = suiteflow_store::ConnectionChanges::default().webflow_token(sealed);
        let store = p.store().await;
        let mut conn = store.get().await.unwrap();
        suiteflow_store::update_connection(&mut conn, p.connection, &changes)
            .await
            .unwrap();
    }
    p.accept_a_create("rec_1").await;
    p.worker.run_until_empty().await.unwrap();
    assert_eq!(
        p.count(EventStatus::Queued).await,
        1,
        "the event waits: {:?}",
        p.statuses().await
    );
    assert_eq!(p.count(EventStatus::DeadLetter).await, 0);
    let connection = p.connection_row().await;
    assert_eq!(connection.status, ConnectionStatus::Error);
    assert!(
        connection
            .last_error_message
            .unwrap_or_default()
            .contains("401")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_last_attempt_dead_letters_with_the_error_kept() {
    let p = Pipeline::start_with_retries(1, 3).await;
    // A first record warms the connection (schemas fetched), then every create fails.
    p.accept(
        "record_created",
        "ok",
        json!({"title": "Fine", "price": "1"}),
        "k0",
    )
    .await;
    p.sync().await;
    p.wf.fail_next(100, 503);
    p.accept_a_create("rec_1").await;
    p.sync().await;
    let [event] = p.events_of("rec_1").await.try_into().unwrap();
    assert_eq!((event.status, event.attempts), (EventStatus::DeadLetter, 3));
    let error = event.error.unwrap_or_default();
    assert!(error.contains("503"), "{error}");
    p.wf.clear_faults();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreadable_collection_backs_off_without_spending_or_dead_lettering_events() {
    let base = Duration::from_secs(10);
    let p = Pipeline::start_with_retries(10_000, 2).await;
    // A cold worker must read the collection's schema first, and Webflow keeps failing it.
    p.wf.inject(FaultRule::new(Fault::Status(503), 1000).method("GET"));
    p.accept_a_create("rec_1").await;
    // More rounds than the connection's attempts: none is spent, and the wait doubles.
    for round in 1..=3u32 {
        let before = OffsetDateTime::now_utc();
        p.worker.run_until_empty().await.unwrap();
        let after = OffsetDateTime::now_utc();
        let [event] = p.events_of("rec_1").await.try_into().unwrap();
        assert_eq!(event.status, EventStatus::Queued, "round {round}");
        assert_eq!(event.attempts, 0, "round {round}: no attempt spent");
        // backoff(round): base·2^(round-1), plus up to 30 % jitter
        let wait = base * 2u32.pow(round - 1);
        let retry_after = event.retry_after.expect("rescheduled");
        assert!(retry_after - before >= wait, "round {round}: {retry_after}");
        assert!(
            retry_after - after <= wait.mul_f64(1.3),
            "round {round}: {retry_after}"
        );
        let connection = p.connection_row().await;
        assert_eq!(connection.consecutive_errors, i32::try_from(round).unwrap());
        let error = connection.last_error_message.unwrap_or_default();
        assert!(error.contains("503"), "{error}");
        p.make_due().await;
    }
    // Webflow recovers: the event is written on its first attempt, the streak is over.
    p.wf.clear_faults();
    p.sync().await;
    let [event] = p.events_of("rec_1").await.try_into().unwrap();
    assert_eq!((event.status, event.attempts), (EventStatus::Success, 1));
    assert_eq!(p.items().len(), 1);
    assert_eq!(p.connection_row().await.consecutive_errors, 0);
}

/// Creates a record while Webflow answers its create with `fault`, then updates it: there is
/// one item, under the record's own slug, and the update reaches it.
async fn create_through_a_fault_then_update(fault: Fault) -> Pipeline {
    let p = Pipeline::start().await;
    p.wf.inject(
        FaultRule::new(fault, 1)
            .method("POST")
            .path_contains("/items"),
    );
    let sofa = |price: &str| json!({"title": "Sofa", "price": price});
    p.accept("record_created", "rec_1", sofa("700"), "k").await;
    p.sync().await;
    let items = p.items();
    assert_eq!(items.len(), 1, "no duplicate item: {items:?}");
    assert_eq!(items[0]["fieldData"]["slug"], "sofa");
    assert_eq!(p.count(EventStatus::Success).await, 1);
    p.accept("record_updated", "rec_1", sofa("650"), "k2").await;
    p.sync().await;
    let items = p.items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["fieldData"]["price"], 650.0);
    p
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_whose_answer_was_lost_is_adopted_not_duplicated() {
    // Webflow applies the create, then the connection drops before the answer.
    create_through_a_fault_then_update(Fault::DropAfterApply).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_webflow_applies_late_is_adopted_not_made_again_under_a_suffix() {
    // The create is answered 500 and not applied; Webflow commits it only later, after the
    // next attempt has looked for it (and not found it), just before that attempt creates again.
    let p = create_through_a_fault_then_update(Fault::ApplyLate(500)).await;
    let creates: Vec<u16> =
        p.wf.requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.contains("/items"))
            .map(|r| r.status)
            .collect();
    assert_eq!(
        creates,
        [500, 400],
        "500, then the retry refused: the late create holds the slug"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_bulk_create_is_resolved_by_listing_not_one_lookup_per_item() {
    let p = Pipeline::start().await;
    // The collection already holds 250 items made yesterday: only what was created since the
    // lost create's intent is listed, one page, not the whole collection.
    let old: Vec<_> = (0..250)
        .map(|i| json!({"name": format!("Old {i}"), "slug": format!("old-{i}"), "price": 1}))
        .collect();
    for page in old.chunks(100) {
        p.wf.seed_items(&p.collection, page.to_vec(), false)
            .unwrap();
    }
    p.wf.backdate_items(&p.collection, Duration::from_secs(86_400));
    // The bulk create of the whole batch is applied, then its answer is lost.
    p.wf.inject(
        FaultRule::new(Fault::DropAfterApply, 1)
            .method("POST")
            .path_contains("/items"),
    );
    for i in 0..30 {
        let record = format!("rec_{i}");
        let data = json!({"title": format!("Chair {i}"), "price": "5"});
        p.accept("record_created", &record, data, &format!("k{i}"))
            .await;
    }
    p.sync().await;
    let items = p.items();
    assert_eq!(items.len(), 280, "no duplicate item");
    assert_eq!(p.count(EventStatus::Success).await, 30);
    let requests = p.wf.requests();
    let lookups = requests
        .iter()
        .filter(|r| r.method == "GET" && r.query.as_deref().is_some_and(|q| q.contains("slug=")))
        .count();
    let listings: Vec<_> = requests
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/items"))
        .collect();
    assert_eq!(
        lookups, 0,
        "the 30 unknown creates were not looked up one by one"
    );
    assert_eq!(
        listings.len(),
        1,
        "one page of the recent items resolved them all"
    );
    assert!(
        listings[0].query_param("createdOn[gte]").is_some(),
        "{:?}",
        listings[0].query
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_500_storm_ends_in_success_without_ever_exceeding_the_rate_limit() {
    // The clock is scaled: "a minute" is one second on both sides, 10 requests per window.
    let window = std::time::Duration::from_secs(1);
    let p = Pipeline::start_with(Options {
        webflow: suiteflow_test_support::webflow::WebflowConfig {
            rate_limit: 10,
            rate_window: window,
            ..Default::default()
        },
        spec: ConnectionSpec {
            rate_limit_per_min: 10,
            retry_backoff_ms: 1,
            max_retries: 10,
            ..ConnectionSpec::default()
        },
        // One event per batch: one Webflow call per record, so the budget really binds.
        env: vec![("WORKER_BATCH_SIZE", "1".to_string())],
        rate_window: window,
    })
    .await;
    let n = 30;
    for i in 0..n {
        let data = json!({"title": format!("Chair {i}"), "price": "1"});
        p.accept("record_created", &format!("r{i}"), data, &format!("k{i}"))
            .await;
    }
    p.wf.fail_next(8, 500);
    p.sync().await;
    assert_eq!(p.items().len(), n, "every record written");
    assert_eq!(p.count(EventStatus::Success).await, n as i64);
    let requests = p.wf.requests();
    let refused = requests.iter().filter(|r| r.status == 429).count();
    assert_eq!(
        refused, 0,
        "the stand-in saw more than its rate limit {refused} times"
    );
    assert!(
        requests.iter().filter(|r| r.status == 500).count() >= 8,
        "the storm happened"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_webflow_refusal_that_outlives_a_fresh_read_of_the_schemas_is_dead_lettered_with_its_details()
 {
    let p = Pipeline::start().await;
    let chair = |price: &str| json!({"title": "Chair", "price": price});
    p.accept("record_created", "rec_1", chair("10"), "k1").await;
    p.sync().await;
    assert_eq!(p.items().len(), 1);
    // Webflow refuses the value itself (the schemas did not change): the first refusal has the
    // schemas read again, the second, with fresh schemas, is the record's own fault.
    let refusal = json!({"message": "Validation Error", "code": "validation_error",
        "details": [{"param": "price", "description": "Value is not allowed for this field"}]});
    p.wf.inject(FaultRule::new(Fault::Reply(400, refusal), 2).method("PATCH"));
    let schema_reads = || p.calls("GET", &p.collection);
    let reads_before = schema_reads();
    p.accept("record_updated", "rec_1", chair("12"), "k2").await;
    p.sync().await;
    assert_eq!(
        schema_reads(),
        reads_before + 1,
        "the schemas were read again once"
    );
    let events = p.events_of("rec_1").await;
    let dead = events
        .iter()
        .find(|e| e.status == EventStatus::DeadLetter)
        .expect("the refused update is dead-lettered");

    let shown = p.cli(&["events", "show", &dead.id.0.to_string()]);
    let detail = &shown["errorDetail"];
    assert_eq!(detail["kind"], "permanent", "{shown}");
    assert_eq!(detail["source"], "webflow", "{shown}");
    assert_eq!(detail["status"], 400, "{shown}");
    assert_eq!(detail["code"], "validation_error", "{shown}");
    assert_eq!(detail["details"][0]["param"], "price", "{shown}");
    assert!(
        detail["details"][0]["description"]
            .as_str()
            .is_some_and(|d| d.contains("not allowed")),
        "{shown}"
    );
    assert!(
        shown["error"].as_str().is_some_and(|e| e.contains("price")),
        "{shown}"
    );
}
