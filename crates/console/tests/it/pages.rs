//! The pages: what each shows, and that each action changes what it says (and only with the
//! session's CSRF token).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use suiteflow_store::queue::{self, NewEvent};
use suiteflow_store::{EventStatus, SecretColumn};
use suiteflow_test_support::fixtures::{Products, test_keys};

use crate::api::{enqueue, finish};
use crate::support::*;

/// Follows a 303 and returns the page it leads to.
async fn follow(c: &mut Client, response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (status, body) = c.text(&location(&response)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn the_overview_shows_the_queue_and_each_connection() {
    let site = Site::start().await;
    let ids = enqueue(&site, "r", 3).await;
    finish(&site, &ids[..1]).await;
    enqueue(&site, "w", 2).await;
    // Workers by their heartbeats: one busy now, one unseen for a minute.
    let store = site.store().await;
    let mut conn = store.get().await.unwrap();
    let now = time::OffsetDateTime::now_utc();
    for (id, batch) in [("worker-busy", Some((7, now))), ("worker-quiet", None)] {
        let beat = suiteflow_store::Beat {
            id,
            host: "node-a",
            started_at: now,
            batch,
        };
        suiteflow_store::heartbeat(&mut conn, &beat).await.unwrap();
    }
    suiteflow_test_support::rows::age_worker(&mut conn, "worker-quiet", time::Duration::minutes(1))
        .await;
    let mut c = site.operator().await;
    let (status, body) = c.text("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(r#"http-equiv="refresh""#), "{body}");
    assert!(body.contains("Waiting to be written"), "{body}");
    assert!(body.contains(r#"<p class="figure">2</p>"#), "{body}");
    assert!(
        body.contains(r#"<span class="badge active">active</span></td><td>1</td>"#),
        "{body}"
    );
    // The chart of the last hour is drawn on the server: 3 events finished, one dead-lettered.
    assert!(body.contains("The last hour: 3 events finished"), "{body}");
    assert!(body.contains(": 1 dead letter</title>"), "{body}");
    let row = |id: &str| {
        body.split(&format!("<code>{id}</code>"))
            .nth(1)
            .and_then(|rest| rest.split("</tr>").next())
            .unwrap_or_else(|| panic!("{id} missing: {body}"))
            .to_string()
    };
    let busy = row("worker-busy");
    assert!(busy.contains("7 events since"), "{busy}");
    assert!(!busy.contains("stale"), "{busy}");
    let quiet = row("worker-quiet");
    assert!(quiet.contains("idle"), "{quiet}");
    assert!(
        quiet.contains(r#"<span class="badge stale">stale</span>"#),
        "{quiet}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_is_paused_resumed_and_its_dead_letters_replayed_from_its_page() {
    let site = Site::start().await;
    let id = site.world.connection;
    let ids = enqueue(&site, "r", 2).await;
    finish(&site, &ids).await;
    let mut c = site.operator().await;

    let (status, body) = c.text(&format!("/connections/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Webflow said no"), "recent events: {body}");
    assert!(body.contains(&format!("/connections/{id}/pause")), "{body}");

    // Without the CSRF token nothing changes.
    let response = c.post_form(&format!("/connections/{id}/pause"), &[]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = c.post_action(&format!("/connections/{id}/pause")).await;
    let body = follow(&mut c, response).await;
    assert!(body.contains("The connection is paused."), "{body}");
    assert!(
        body.contains(&format!("/connections/{id}/resume")),
        "{body}"
    );
    let response = c.post_action(&format!("/connections/{id}/resume")).await;
    let body = follow(&mut c, response).await;
    assert!(body.contains("The connection is active."), "{body}");

    let (_, confirm) = c
        .text(&format!("/connections/{id}/replay-dead-letters"))
        .await;
    assert!(
        confirm.contains("Put the 2 dead-lettered events"),
        "{confirm}"
    );
    let response = c
        .post_action(&format!("/connections/{id}/replay-dead-letters"))
        .await;
    let body = follow(&mut c, response).await;
    assert!(
        body.contains("2 dead-lettered events were queued again."),
        "{body}"
    );

    let store = site.store().await;
    let mut conn = store.get().await.unwrap();
    for event in ids {
        let e = queue::get_event(&mut conn, event).await.unwrap().unwrap();
        assert_eq!((e.status, e.attempts), (EventStatus::Queued, 0));
    }
    let entry = suiteflow_store::latest_audit(&mut conn, "event.replay_dead_letters")
        .await
        .unwrap()
        .expect("an audit entry");
    assert_eq!(entry.actor, "console");
    assert_eq!(entry.details["requeued"], 2);
    let entry = suiteflow_store::latest_audit(&mut conn, "connection.status")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.details, json!({"from": "paused", "to": "active"}));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_shows_its_error_and_payload_and_is_replayed() {
    let site = Site::start().await;
    let store = site.store().await;
    let event = {
        let mut conn = store.get().await.unwrap();
        queue::enqueue(
            &mut conn,
            &NewEvent::record(site.world.connection, "rec-7", "record_updated", "k-7")
                .with_payload(json!({"data": {"title": "Oak <chair>"}})),
        )
        .await
        .unwrap()
        .id()
    };
    let mut c = site.operator().await;
    let page = format!("/events/{}", event.0);
    let (_, body) = c.text(&page).await;
    // Still queued: shown, escaped, and not replayable.
    assert!(body.contains("Oak &lt;chair&gt;"), "{body}");
    assert!(!body.contains("Replay this event"), "{body}");
    let response = c.post_action(&format!("{page}/replay")).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);

    finish(&site, &[event]).await;
    let (_, body) = c.text(&page).await;
    assert!(body.contains("Webflow said no"), "{body}");
    assert!(body.contains("Replay this event"), "{body}");
    let response = c.post_action(&format!("{page}/replay")).await;
    let body = follow(&mut c, response).await;
    assert!(
        body.contains("the event was dead letter and is queued again"),
        "{body}"
    );
    let mut conn = store.get().await.unwrap();
    let e = queue::get_event(&mut conn, event).await.unwrap().unwrap();
    assert_eq!(e.status, EventStatus::Queued);

    let (status, _) = c.text("/events/not-an-event").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_waiting_for_its_retry_can_be_replayed_now() {
    let site = Site::start().await;
    let store = site.store().await;
    let [event]: [_; 1] = enqueue(&site, "retry-", 1).await.try_into().unwrap();
    {
        let mut conn = store.get().await.unwrap();
        let claimed = queue::claim(&mut conn, "test", 1, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        let later = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
        let error = suiteflow_store::EventError::text("Webflow answered 503");
        queue::fail(&mut conn, "test", event, &error, later)
            .await
            .unwrap();
    }
    let mut c = site.operator().await;
    let page = format!("/events/{}", event.0);
    let (_, body) = c.text(&page).await;
    assert!(body.contains("Replay this event"), "{body}");
    let response = c.post_action(&format!("{page}/replay")).await;
    let body = follow(&mut c, response).await;
    assert!(
        body.contains("the event was failed and is queued again"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn events_are_filtered_and_paged_by_their_sequence() {
    let site = Site::start().await;
    enqueue(&site, "r", 60).await;
    enqueue(&site, "other", 1).await;
    let mut c = site.operator().await;

    let rows = |body: &str| body.matches(r#"<a href="/events/"#).count();
    let (status, first) = c.text("/events?status=queued").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows(&first), 50);
    assert!(first.contains("other0"), "newest first: {first}");
    let next = first
        .split(r#"rel="next""#)
        .next()
        .and_then(|head| head.rsplit("href=\"").next())
        .and_then(|tail| tail.split('"').next())
        .expect("a link to older events")
        .replace("&amp;", "&");
    assert!(
        next.contains("status=queued") && next.contains("cursor="),
        "{next}"
    );
    let (_, second) = c.text(&next).await;
    assert_eq!(rows(&second), 11);
    assert!(!second.contains(r#"rel="next""#));

    let (_, one) = c.text("/events?record=r42").await;
    assert_eq!(rows(&one), 1, "{one}");
    let (status, bad) = c.text("/events?status=lost").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(bad.contains("status"), "{bad}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mapping_page_previews_a_live_record_and_lists_versions() {
    let site = Site::start().await;
    let id = site.world.connection;
    let record = site.world.ss.insert_record(
        &site.world.products.table,
        json!({"title": "Oak Chair", "price": 120}),
    );
    let mut c = site.operator().await;
    let (status, body) = c
        .text(&format!("/connections/{id}/mapping?record={record}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("oak-chair"), "the slug: {body}");
    assert!(body.contains("Oak Chair"), "{body}");
    // A connection's first mapping spells other scripts in Latin letters, and says so.
    assert!(
        body.contains("spelled in Latin letters (<code>transliterateSlugs</code> on)"),
        "{body}"
    );
    // A preview writes nothing.
    assert!(
        site.world
            .wf
            .items(&site.world.products.collection)
            .is_empty()
    );

    let (_, body) = c
        .text(&format!("/connections/{id}/mapping?record=missing"))
        .await;
    assert!(body.contains("No record"), "{body}");

    let mut changed = Products::mapping();
    changed["slugTemplate"] = json!("{{title}}-x");
    changed["transliterateSlugs"] = json!(false);
    suiteflow_test_support::fixtures::set_mapping(site.world.db.url(), id, changed).await;
    let (_, body) = c.text(&format!("/connections/{id}/mapping")).await;
    assert!(body.contains("Version 2"), "{body}");
    assert!(
        body.contains("(<code>transliterateSlugs</code> off)"),
        "{body}"
    );
    assert!(body.contains("mapping?version=1"), "{body}");
    let (_, old) = c
        .text(&format!("/connections/{id}/mapping?version=1"))
        .await;
    assert!(old.contains("Version 1"), "{old}");
    assert!(!old.contains("-x"), "{old}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_check_runs_from_the_page() {
    let site = Site::start().await;
    let id = site.world.connection;
    let mut c = site.operator().await;
    let (status, body) = c.text(&format!("/connections/{id}/check")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("<table"), "{body}");
    // No SmartSuite webhook is registered yet: the check says so.
    assert!(body.to_lowercase().contains("webhook"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_secret_is_shown_once_and_is_the_stored_one() {
    let site = Site::start().await;
    let id = site.world.connection;
    let mut c = site.operator().await;
    let response = c
        .post_action(&format!("/connections/{id}/rotate-secret"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.text().await.unwrap();
    let secret = body
        .split(r#"id="secret" readonly value=""#)
        .nth(1)
        .and_then(|t| t.split('"').next())
        .expect("the secret in the page")
        .to_string();
    let store = site.store().await;
    let mut conn = store.get().await.unwrap();
    let stored = suiteflow_store::get_connection(&mut conn, id)
        .await
        .unwrap()
        .unwrap();
    let opened = SecretColumn::WebhookSecret
        .open(&test_keys(), id, &stored.webhook_secret.sealed())
        .unwrap();
    assert_eq!(opened.expose(), secret);
    // The connection's page never shows it.
    let (_, page) = c.text(&format!("/connections/{id}")).await;
    assert!(!page.contains(&secret));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_smartsuite_webhook_is_registered_from_the_page() {
    let site = Site::start_with(&[("APP_URL", "https://sync.example.com")]).await;
    let id = site.world.connection;
    let mut c = site.operator().await;
    let response = c
        .post_action(&format!("/connections/{id}/register-webhook"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.text().await.unwrap();
    assert!(body.contains("https://sync.example.com/"), "{body}");
    let hooks = site.world.ss.webhooks();
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    // Registering again replaces it.
    let response = c
        .post_action(&format!("/connections/{id}/register-webhook"))
        .await;
    let body = response.text().await.unwrap();
    assert!(body.contains("was deleted"), "{body}");
    assert_eq!(site.world.ss.webhooks().len(), 1);
}

async fn queued(conn: &mut diesel_async::AsyncPgConnection) -> i64 {
    queue::count_by_status(conn)
        .await
        .unwrap()
        .into_iter()
        .find(|(status, _)| *status == EventStatus::Queued)
        .map_or(0, |(_, n)| n)
}

/// Reloads the backfill page until `text` shows (the work runs in the background).
async fn wait_for(c: &mut Client, page: &str, text: &str) -> String {
    for _ in 0..200 {
        let (_, body) = c.text(page).await;
        if body.contains(text) {
            return body;
        }
        assert!(!body.contains("The backfill failed"), "{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{page} never showed {text:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backfill_is_planned_then_carried_out() {
    let site = Site::start().await;
    let id = site.world.connection;
    let table = &site.world.products.table;
    for title in ["Oak Chair", "Pine Table", "Ash Stool"] {
        site.world
            .ss
            .insert_record(table, json!({"title": title, "price": 10}));
    }
    // One item is already on the site: the plan adopts it.
    site.world
        .wf
        .seed_items(
            &site.world.products.collection,
            vec![json!({"name": "Oak Chair", "slug": "oak-chair", "price": 10})],
            true,
        )
        .unwrap();
    let mut c = site.operator().await;
    let page = format!("/connections/{id}/backfill");
    let response = c.post_action(&format!("{page}/plan")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let planned = wait_for(&mut c, &page, "Start the backfill").await;
    let count = |body: &str, row: &str| {
        body.split(row)
            .nth(1)
            .and_then(|t| t.split("<td>").nth(1))
            .and_then(|t| t.split('<').next())
            .unwrap()
            .to_string()
    };
    assert_eq!(count(&planned, "Create"), "2", "{planned}");
    assert_eq!(count(&planned, "Adopt (items"), "1", "{planned}");
    // The plan wrote nothing.
    let store = site.store().await;
    let mut conn = store.get().await.unwrap();
    assert_eq!(queued(&mut conn).await, 0);

    let csrf = c.csrf().await;
    let response = c
        .post_form(&format!("{page}/start"), &[("csrf", &csrf)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let done = wait_for(&mut c, &page, "Done").await;
    assert!(done.contains("1 items adopted, 2 events queued"), "{done}");
    assert_eq!(queued(&mut conn).await, 2);
    // An operator's action: on record, with who did it and what it did.
    let entry = suiteflow_store::latest_audit(&mut conn, "backfill.applied")
        .await
        .unwrap()
        .expect("the backfill is in the audit log");
    assert_eq!(
        (entry.actor.as_str(), entry.connection_id),
        ("console", Some(id))
    );
    assert_eq!(
        (&entry.details["adopted"], &entry.details["enqueued"]),
        (&json!(1), &json!(2))
    );

    // Starting again without a new plan is refused.
    let response = c
        .post_form(&format!("{page}/start"), &[("csrf", &csrf)])
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
}
