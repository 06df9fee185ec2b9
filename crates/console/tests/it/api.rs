//! The JSON API: what the pages show, as data, with the same validation and errors as JSON.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use suiteflow_store::queue::{self, Completion, EventError, NewEvent};
use suiteflow_store::{ConnectionId, EventId};

use crate::support::*;

/// Queues `n` events for records `prefix0…`, and returns their ids in queue order.
pub async fn enqueue(site: &Site, prefix: &str, n: usize) -> Vec<EventId> {
    let store = site.store().await;
    let mut conn = store.get().await.unwrap();
    let events: Vec<NewEvent> = (0..n)
        .map(|i| {
            NewEvent::record(
                site.world.connection,
                format!("{prefix}{i}"),
                "record_updated",
                format!("{prefix}-key-{i}"),
            )
        })
        .collect();
    queue::enqueue_many(&mut conn, &events)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.id())
        .collect()
}

/// Claims every queued event; dead-letters those in `dead`, completes the others.
pub async fn finish(site: &Site, dead: &[EventId]) {
    let store = site.store().await;
    let mut conn = store.get().await.unwrap();
    loop {
        let claimed = queue::claim(&mut conn, "test", 100, Duration::from_secs(60))
            .await
            .unwrap();
        if claimed.is_empty() {
            return;
        }
        for e in claimed {
            if dead.contains(&e.id) {
                queue::dead_letter(
                    &mut conn,
                    "test",
                    e.id,
                    &EventError::text("Webflow said no"),
                )
                .await
                .unwrap();
            } else {
                queue::complete(&mut conn, "test", e.id, &Completion::default())
                    .await
                    .unwrap();
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_overview_counts_the_queue_the_last_hour_and_the_connections() {
    let site = Site::start().await;
    let ids = enqueue(&site, "r", 4).await;
    finish(&site, &ids[..1]).await;
    enqueue(&site, "w", 2).await;
    let mut c = site.operator().await;
    let (status, o) = c.json("/api/v1/overview").await;
    assert_eq!(status, StatusCode::OK, "{o}");
    assert_eq!(o["queueDepth"], 2, "{o}");
    assert!(o["oldestEventAgeSeconds"].is_u64(), "{o}");
    let minutes = o["perMinute"].as_array().unwrap();
    assert_eq!(minutes.len(), 60);
    let sum = |key: &str| {
        minutes
            .iter()
            .map(|m| m[key].as_i64().unwrap())
            .sum::<i64>()
    };
    assert_eq!((sum("success"), sum("deadLetter")), (3, 1), "{o}");
    assert_eq!(o["connections"]["active"], 1, "{o}");
    assert!(o["workerLastRun"].is_null(), "{o}");
    assert_eq!(o["workers"], serde_json::json!([]), "{o}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_overview_lists_the_workers_by_their_heartbeats() {
    let site = Site::start().await;
    let store = site.store().await;
    let mut conn = store.get().await.unwrap();
    // Whole seconds: PostgreSQL keeps microseconds.
    let started = (time::OffsetDateTime::now_utc() - time::Duration::hours(1))
        .replace_nanosecond(0)
        .unwrap();
    let beat = suiteflow_store::Beat {
        id: "w-1",
        host: "node-a",
        started_at: started,
        batch: Some((3, started)),
    };
    // One that stopped cleanly since is not listed, but counts for workerLastRun.
    let stopped = suiteflow_store::Beat { id: "w-0", ..beat };
    suiteflow_store::heartbeat(&mut conn, &stopped)
        .await
        .unwrap();
    suiteflow_store::heartbeat(&mut conn, &beat).await.unwrap();
    suiteflow_store::worker_stopped(&mut conn, "w-0")
        .await
        .unwrap();
    let seen = suiteflow_store::worker_last_seen(&mut conn)
        .await
        .unwrap()
        .unwrap();
    let mut c = site.operator().await;
    let (status, o) = c.json("/api/v1/overview").await;
    assert_eq!(status, StatusCode::OK, "{o}");
    let rfc3339 = |at: time::OffsetDateTime| {
        at.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    assert_eq!(o["workerLastRun"], rfc3339(seen), "{o}");
    let [worker]: [Value; 1] = o["workers"].as_array().unwrap().clone().try_into().unwrap();
    assert_eq!(worker["id"], "w-1");
    assert_eq!(worker["host"], "node-a");
    assert_eq!(worker["currentBatch"], 3);
    assert_eq!(worker["startedAt"], rfc3339(started));
    assert_eq!(worker["batchStartedAt"], rfc3339(started));
    assert!(worker["seenSecondsAgo"].as_u64().unwrap() < 60, "{worker}");
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_are_listed_shown_paused_and_resumed() {
    let site = Site::start().await;
    let id = site.world.connection.0.to_string();
    let mut c = site.operator().await;
    let (status, list) = c.json("/api/v1/connections").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["id"], id.as_str(), "{list}");
    assert_eq!(list[0]["status"], "active");

    let csrf = c.csrf().await;
    let pause = format!("/api/v1/connections/{id}/pause");
    let response = c.request(Method::POST, &pause, None, Some(&csrf)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (&body["previousStatus"], &body["status"]),
        (&"active".into(), &"paused".into())
    );
    let (_, detail) = c.json(&format!("/api/v1/connections/{id}")).await;
    assert_eq!(detail["status"], "paused", "{detail}");
    assert!(detail["recentEvents"].is_array(), "{detail}");
    let resume = format!("/api/v1/connections/{id}/resume");
    let response = c.request(Method::POST, &resume, None, Some(&csrf)).await;
    assert_eq!(response.status(), StatusCode::OK);

    // Validation as JSON.
    let (status, body) = c.json("/api/v1/connections/not-an-id").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("not a connection id")
    );
    let unknown = ConnectionId::new_random();
    let (status, _) = c.json(&format!("/api/v1/connections/{unknown}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let response = c
        .request(
            Method::POST,
            &format!("/api/v1/connections/{id}/explode"),
            None,
            Some(&csrf),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // An archived connection stays archived.
    {
        let store = site.store().await;
        let mut conn = store.get().await.unwrap();
        suiteflow_store::set_connection_status(
            &mut conn,
            site.world.connection,
            suiteflow_store::ConnectionStatus::Archived,
        )
        .await
        .unwrap();
    }
    let response = c.request(Method::POST, &resume, None, Some(&csrf)).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("archived"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn events_are_filtered_and_paged_by_cursor() {
    let site = Site::start().await;
    let ids = enqueue(&site, "rec-", 120).await;
    finish(&site, &ids[..3]).await;
    let mut c = site.operator().await;

    let mut seen = Vec::new();
    let mut path = "/api/v1/events".to_string();
    loop {
        let (status, page) = c.json(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let events = page["events"].as_array().unwrap();
        seen.extend(events.iter().map(|e| e["seq"].as_i64().unwrap()));
        match page["nextCursor"].as_i64() {
            Some(cursor) => path = format!("/api/v1/events?cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 120, "every event once");
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "newest first, no repeat"
    );

    let (_, dead) = c.json("/api/v1/events?status=dead_letter").await;
    assert_eq!(dead["events"].as_array().unwrap().len(), 3, "{dead}");
    assert_eq!(dead["nextCursor"], Value::Null);
    let (_, one) = c
        .json("/api/v1/events?record=rec-7&type=record_updated")
        .await;
    let one = one["events"].as_array().unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["externalId"], "rec-7");
    let connection = site.world.connection.0;
    let (_, mine) = c
        .json(&format!(
            "/api/v1/events?connection={connection}&status=success"
        ))
        .await;
    assert_eq!(mine["events"].as_array().unwrap().len(), 50, "{mine}");

    let (status, body) = c.json("/api/v1/events?status=exploded").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"].as_str().unwrap().contains("dead_letter"),
        "{body}"
    );
    let (status, _) = c.json("/api/v1/events?connection=nope").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_is_shown_and_a_dead_letter_replayed() {
    let site = Site::start().await;
    let ids = enqueue(&site, "r", 2).await;
    finish(&site, &ids[..1]).await;
    enqueue(&site, "waiting", 1).await;
    let mut c = site.operator().await;
    let dead = ids[0].0;
    let (status, detail) = c.json(&format!("/api/v1/events/{dead}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["status"], "dead_letter");
    assert_eq!(detail["error"], "Webflow said no");
    assert!(detail["payload"].is_object(), "{detail}");

    let csrf = c.csrf().await;
    let response = c
        .request(
            Method::POST,
            &format!("/api/v1/events/{dead}/replay"),
            None,
            Some(&csrf),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["previousStatus"], "dead_letter");
    let (_, detail) = c.json(&format!("/api/v1/events/{dead}")).await;
    assert_eq!(detail["status"], "queued");
    // A queued event is not replayed.
    let response = c
        .request(
            Method::POST,
            &format!("/api/v1/events/{dead}/replay"),
            None,
            Some(&csrf),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let (status, _) = c.json("/api/v1/events/not-an-id").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_describes_the_api() {
    let site = Site::start().await;
    let mut c = site.operator().await;
    let (status, doc) = c.json("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    for path in [
        "/api/v1/overview",
        "/api/v1/connections",
        "/api/v1/connections/{id}",
        "/api/v1/connections/{id}/{action}",
        "/api/v1/events",
        "/api/v1/events/{id}",
        "/api/v1/events/{id}/replay",
        "/api/v1/session",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["components"]["schemas"]["Overview"].is_object());
    // The document matches what is served.
    let served = suiteflow_console::api::document();
    assert_eq!(serde_json::to_value(served).unwrap(), doc);
}
