//! Webhook in, Webflow item out: the end-to-end cases of issue 7.

use std::time::Duration;

use serde_json::json;
use suiteflow_store::{ConnectionStatus, EventStatus};
use suiteflow_test_support::fixtures::ConnectionSpec;
use suiteflow_test_support::webflow::{Fault, FaultRule};
use time::OffsetDateTime;

use crate::support::*;

fn item_named<'a>(items: &'a [serde_json::Value], name: &str) -> Option<&'a serde_json::Value> {
    items.iter().find(|i| i["fieldData"]["name"] == name)
}

#[tokio::test(flavor = "multi_thread")]
async fn create_update_delete_reach_webflow() {
    let p = Pipeline::start().await;
    p.accept(
        "record_created",
        "rec_1",
        json!({"title": "Oak Chair", "price": "120"}),
        "k1",
    )
    .await;
    p.sync().await;
    let items = p.items();
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(item["fieldData"]["name"], "Oak Chair");
    assert_eq!(item["fieldData"]["slug"], "oak-chair");
    assert_eq!(item["fieldData"]["price"], 120.0);
    assert_eq!(item["isDraft"], false, "created live");
    let id = item["id"].clone();

    p.accept(
        "record_updated",
        "rec_1",
        json!({"title": "Oak Chair", "price": "99.5"}),
        "k2",
    )
    .await;
    p.sync().await;
    let items = p.items();
    assert_eq!(items.len(), 1, "updated in place");
    assert_eq!(items[0]["id"], id);
    assert_eq!(items[0]["fieldData"]["price"], 99.5);

    p.accept("record_deleted", "rec_1", json!({}), "k3").await;
    p.sync().await;
    let items = p.items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["isArchived"], true, "archived by default");
    assert_eq!(p.count(EventStatus::Success).await, 3);

    // The day's analytics add up.
    let store = p.store().await;
    let mut conn = store.get().await.unwrap();
    let today = time::OffsetDateTime::now_utc().date();
    let days = suiteflow_store::daily_analytics(&mut conn, p.connection, today, today)
        .await
        .unwrap();
    assert_eq!(days.len(), 1);
    assert_eq!(
        (
            days[0].events_received,
            days[0].succeeded,
            days[0].dead_lettered
        ),
        (3, 3, 0)
    );
    assert_eq!(days[0].webflow_calls, 3, "create, update, archive");
    assert!(days[0].total_duration_ms > 0, "durations are summed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_duplicate_webhook_writes_once_and_an_unchanged_record_makes_no_call() {
    let p = Pipeline::start().await;
    let data = json!({"title": "Lamp", "price": "10"});
    p.accept("record_created", "rec_1", data.clone(), "same")
        .await;
    assert_eq!(
        p.push("record_created", "rec_1", data.clone(), "same")
            .await,
        409
    );
    p.sync().await;
    assert_eq!(p.items().len(), 1);
    // The same content again under a new key: mapped, hashed, skipped.
    let before = p.wf.requests().len();
    p.accept("record_updated", "rec_1", data, "again").await;
    p.sync().await;
    let writes = p.wf.requests()[before..]
        .iter()
        .filter(|r| r.method != "GET")
        .count();
    assert_eq!(writes, 0, "no Webflow write for unchanged content");
}

#[tokio::test(flavor = "multi_thread")]
async fn out_of_order_updates_leave_the_newest_state() {
    let p = Pipeline::start().await;
    for (n, price) in ["1", "2", "3"].iter().enumerate() {
        let data = json!({"title": "Desk", "price": price});
        p.accept("record_updated", "rec_1", data, &format!("v{n}"))
            .await;
    }
    p.sync().await;
    let items = p.items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["fieldData"]["price"], 3.0);
    assert_eq!(
        p.count(EventStatus::Skipped).await,
        2,
        "older events superseded"
    );
}

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
    {
        // The three 500s answered the collection read, before any event was tried: the
        // events come back later without having spent an attempt.
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        let store = p.store().await;
        let mut conn = store.get().await.unwrap();
        let attempts: Vec<i32> = suiteflow_store::schema::events::table
            .select(suiteflow_store::schema::events::attempts)
            .load(&mut conn)
            .await
            .unwrap();
        assert_eq!(
            attempts,
            vec![1; 5],
            "one attempt each: the write that succeeded"
        );
    }

    p.wf.fail_next(1, 429);
    p.accept(
        "record_created",
        "r9",
        json!({"title": "After 429", "price": "1"}),
        "k9",
    )
    .await;
    p.worker.run_until_empty().await.unwrap();
    // Rescheduled for Retry-After without spending an attempt.
    let store = p.store().await;
    let mut conn = store.get().await.unwrap();
    let waiting = p.count(EventStatus::Queued).await;
    assert_eq!(waiting, 1);
    let attempts: Vec<i32> = {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        suiteflow_store::schema::events::table
            .filter(suiteflow_store::schema::events::external_id.eq("r9"))
            .select(suiteflow_store::schema::events::attempts)
            .load(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(attempts, vec![0], "a 429 does not spend an attempt");
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
async fn a_taken_slug_gets_a_suffix() {
    let p = Pipeline::start().await;
    p.accept(
        "record_created",
        "a",
        json!({"title": "Stool", "price": "1"}),
        "ka",
    )
    .await;
    p.accept(
        "record_created",
        "b",
        json!({"title": "Stool", "price": "2"}),
        "kb",
    )
    .await;
    p.sync().await;
    let mut slugs: Vec<String> = p
        .items()
        .iter()
        .map(|i| i["fieldData"]["slug"].as_str().unwrap().to_string())
        .collect();
    slugs.sort();
    assert_eq!(slugs, ["stool", "stool-1"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_smartsuite_ping_pulls_events_into_items() {
    let p = Pipeline::start().await;
    let token = "ping-token-123";
    let url = format!(
        "{}/api/hooks/smartsuite/{}/{token}",
        p.ingress, p.connection.0
    );
    let client = suiteflow_smartsuite_client::SmartSuiteClient::builder(
        p.ss.api_base(),
        p.ss.webhooks_base(),
        p.ss.account_id(),
        suiteflow_crypto::SecretString::new(p.ss.api_key()),
    )
    .build()
    .unwrap();
    let webhook = client
        .create_webhook(&suiteflow_smartsuite_client::NewWebhook {
            solution_id: p.solution.clone(),
            filter: json!({"applications": {"application_ids": [p.table]}}),
            kinds: vec![
                "RECORD_CREATED".into(),
                "RECORD_UPDATED".into(),
                "RECORD_DELETED".into(),
            ],
            notification_url: url,
        })
        .await
        .unwrap();
    let store = p.store().await;
    {
        let mut conn = store.get().await.unwrap();
        let changes = suiteflow_store::ConnectionChanges {
            smartsuite_webhook_id: Some(webhook.webhook_id.clone()),
            smartsuite_webhook_token_hash: Some(Some(suiteflow_webhook_security::url_token_hash(
                token,
            ))),
            ..Default::default()
        };
        suiteflow_store::update_connection(&mut conn, p.connection, &changes)
            .await
            .unwrap();
    }
    p.ss.insert_record(&p.table, json!({"title": "Bench", "price": "42"}));
    p.ss.insert_record(&p.table, json!({"title": "Shelf", "price": "17"}));
    // The stand-in pings the ingress; wait for the pull to be queued.
    let mut queued = false;
    for _ in 0..100 {
        if p.count(EventStatus::Queued).await > 0 {
            queued = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(queued, "the ping did not queue a pull");
    p.sync().await;
    let items = p.items();
    assert!(
        item_named(&items, "Bench").is_some() && item_named(&items, "Shelf").is_some(),
        "{items:?}"
    );
    assert_eq!(items.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_workers_write_each_record_once() {
    let p = Pipeline::start().await;
    let n = 1000;
    {
        // Enqueue straight into the store (the ingress path is tested above).
        let store = p.store().await;
        let mut conn = store.get().await.unwrap();
        let events: Vec<_> = (0..n)
            .map(|i| {
                suiteflow_store::NewEvent::record(
                    p.connection,
                    format!("r{i}"),
                    "record_created",
                    format!("k{i}"),
                )
                .with_payload(json!({"data": {"title": format!("Product {i}"), "price": "1"}}))
            })
            .collect();
        suiteflow_store::queue::enqueue_many(&mut conn, &events)
            .await
            .unwrap();
    }
    let second = p.another_worker().await;
    let (a, b) = tokio::join!(p.worker.run_until_empty(), second.run_until_empty());
    let (a, b) = (a.unwrap(), b.unwrap());
    p.sync().await;
    assert_eq!(p.items().len(), n);
    assert_eq!(p.count(EventStatus::Success).await, n as i64);
    let created: usize =
        p.wf.requests()
            .iter()
            .filter(|r| r.method == "POST" && r.status < 300)
            .map(|r| {
                r.body
                    .get("items")
                    .and_then(|i| i.as_array())
                    .map_or(1, Vec::len)
            })
            .sum();
    assert_eq!(created, n, "each record created exactly once");
    assert!(
        a.processed > 0 && b.processed > 0,
        "both workers took part: {a:?} {b:?}"
    );
    // Bulk calls: far fewer Webflow calls than records.
    assert!(
        p.calls("POST", "/items/live") <= 20,
        "{} create calls",
        p.calls("POST", "/items/live")
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
async fn status_behavior_drafts_and_archives_items() {
    let p = Pipeline::start().await;
    suiteflow_test_support::fixtures::set_mapping(
        p.db.url(),
        p.connection,
        json!({
            "fieldMap": {
                "name": {"type": "direct", "source": "title"},
                "price": {"type": "direct", "source": "price"}
            },
            "slugTemplate": "{{title}}",
            "statusBehavior": {"source": "status.value", "draft": ["draft"], "archived": ["gone"]}
        }),
    )
    .await;
    let live = json!({"title": "Lamp", "price": "1", "status": {"value": "live"}});
    p.accept("record_created", "r", live, "k1").await;
    p.sync().await;
    let item = p.wf.item_by_slug(&p.collection, "lamp").expect("created");
    assert_eq!(item["isDraft"], false);
    assert_eq!(p.wf.live_items(&p.collection).len(), 1, "published");

    // Back to draft: staged, and taken off the live site.
    let draft = json!({"title": "Lamp", "price": "1", "status": {"value": "draft"}});
    p.accept("record_updated", "r", draft, "k2").await;
    p.sync().await;
    assert_eq!(
        p.wf.item_by_slug(&p.collection, "lamp").unwrap()["isDraft"],
        true
    );
    assert_eq!(p.wf.live_items(&p.collection).len(), 0, "unpublished");

    let gone = json!({"title": "Lamp", "price": "1", "status": {"value": "gone"}});
    p.accept("record_updated", "r", gone, "k3").await;
    p.sync().await;
    assert_eq!(
        p.wf.item_by_slug(&p.collection, "lamp").unwrap()["isArchived"],
        true
    );
    assert_eq!(p.count(EventStatus::Success).await, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_behaviors_unpublish_or_delete_the_item() {
    for (behavior, check) in [("unpublish", "unpublished"), ("delete", "deleted")] {
        let p = Pipeline::start().await;
        suiteflow_test_support::fixtures::set_mapping(
            p.db.url(),
            p.connection,
            json!({
                "fieldMap": {"name": {"type": "direct", "source": "title"}, "price": {"type": "direct", "source": "price"}},
                "slugTemplate": "{{title}}",
                "deleteBehavior": behavior
            }),
        )
        .await;
        p.accept(
            "record_created",
            "r",
            json!({"title": "Vase", "price": "2"}),
            "k1",
        )
        .await;
        p.sync().await;
        assert_eq!(p.wf.live_items(&p.collection).len(), 1);
        p.accept("record_deleted", "r", json!({}), "k2").await;
        p.sync().await;
        match check {
            "unpublished" => {
                assert_eq!(p.items().len(), 1, "kept staged");
                assert_eq!(p.wf.live_items(&p.collection).len(), 0, "off the live site");
            }
            _ => assert!(p.items().is_empty(), "deleted: {:?}", p.items()),
        }
        assert_eq!(p.count(EventStatus::Success).await, 2, "{behavior}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn worker_once_prints_the_cron_summary() {
    let p = Pipeline::start().await;
    p.accept(
        "record_created",
        "r",
        json!({"title": "Rug", "price": "9"}),
        "k",
    )
    .await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_worker"))
        .arg("--once")
        .env_clear()
        .envs(p.settings())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["processed"], 1);
    assert_eq!(summary["succeeded"], 1);
    assert_eq!(summary["failed"], 0);
    assert_eq!(summary["queueDepth"], 0);
    assert!(
        summary["durationMs"].is_u64() && summary["oldestEventAge"].is_u64(),
        "{summary}"
    );
    assert_eq!(p.items().len(), 1);
    // The run is on record for the health endpoint's workerLastRun.
    let store = p.store().await;
    let mut conn = store.get().await.unwrap();
    assert!(
        suiteflow_store::latest_audit(&mut conn, "worker.completed")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_and_healthz_are_served() {
    let p = Pipeline::start().await;
    let (server, addr) = worker::metrics::serve("127.0.0.1:0".parse().unwrap()).unwrap();
    let handle = server.handle();
    tokio::spawn(server);
    p.accept(
        "record_created",
        "r",
        json!({"title": "Mat", "price": "3"}),
        "k",
    )
    .await;
    p.sync().await;
    let health = p
        .http
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let metrics = p
        .http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        r#"worker_events_total{outcome="success"} 1"#,
        "worker_queue_depth 0",
        "worker_webflow_requests_total",
        r#"worker_connections{status="active"} 1"#,
        "worker_event_duration_seconds",
    ] {
        assert!(
            metrics.contains(expected),
            "{expected} missing from:\n{metrics}"
        );
    }
    handle.stop(false).await;
}
