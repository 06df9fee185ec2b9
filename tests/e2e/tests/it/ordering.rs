//! Newest state wins by the record's own clock: a replayed or late push never rolls a record
//! back, whatever its signature scheme.

use serde_json::{Value, json};
use suiteflow_crypto::SecretString;
use suiteflow_store::EventStatus;

use crate::support::*;

/// A push body for `rec_1` at price `price`, modified (SmartSuite's clock) at `modified`.
fn body(price: &str, modified: &str) -> String {
    json!({
        "event_type": "record_updated",
        "record_id": "rec_1",
        "data": {
            "title": "Oak Chair",
            "price": price,
            "last_updated": {"by": "member", "on": modified}
        }
    })
    .to_string()
}

/// Sends `body` signed with `hmac` and `timestamp` (Unix seconds), with no idempotency key: the
/// ingress derives one from the timestamp.
async fn send(p: &Pipeline, body: &str, timestamp: i64) -> u16 {
    let signature =
        suiteflow_webhook_security::sign_hmac(&SecretString::new(SECRET), body.as_bytes());
    p.http
        .post(format!("{}/api/hooks/{}", p.ingress, p.connection.0))
        .header("x-smartsuite-signature", signature)
        .header("x-smartsuite-timestamp", timestamp.to_string())
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn price(p: &Pipeline) -> Value {
    let items = p.items();
    assert_eq!(items.len(), 1, "{items:?}");
    items[0]["fieldData"]["price"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_captured_hmac_push_replayed_with_a_fresh_timestamp_leaves_the_newer_state() {
    let p = Pipeline::start().await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let captured = body("120", "2026-12-01T10:00:00Z");
    assert_eq!(send(&p, &captured, now - 2).await, 202);
    p.sync().await;
    assert_eq!(price(&p), 120.0);
    assert_eq!(
        send(&p, &body("99", "2026-12-01T10:05:00Z"), now - 1).await,
        202
    );
    p.sync().await;
    assert_eq!(price(&p), 99.0);
    let writes = p.wf.requests().iter().filter(|r| r.method != "GET").count();

    // The attacker's copy: the same body and signature, a fresh timestamp, so a new
    // idempotency key. The ingress cannot tell it from a new push and accepts it...
    assert_eq!(send(&p, &captured, now).await, 202);
    p.sync().await;
    // ...but the worker does not write the older state.
    assert_eq!(price(&p), 99.0);
    let after = p.wf.requests().iter().filter(|r| r.method != "GET").count();
    assert_eq!(after, writes, "no Webflow write for the replay");
    let events = p.events_of("rec_1").await;
    let replay = events.iter().max_by_key(|e| e.seq).unwrap();
    assert_eq!(replay.status, EventStatus::Skipped);
    assert_eq!(replay.attempts, 1, "claimed once, never retried");
    let reason = replay.error.as_deref().unwrap_or_default();
    assert!(
        reason.contains("older than the state already written"),
        "{reason}"
    );
    assert!(
        reason.contains("2026-12-01T10:00:00Z") && reason.contains("2026-12-01T10:05:00Z"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_pushes_delivered_out_of_order_end_with_the_newer_state() {
    let p = Pipeline::start().await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    // The newer change arrives first, the older one second (a sender's late retry).
    assert_eq!(
        send(&p, &body("99", "2026-12-01T10:05:00Z"), now - 1).await,
        202
    );
    p.sync().await;
    assert_eq!(
        send(&p, &body("120", "2026-12-01T10:00:00Z"), now).await,
        202
    );
    p.sync().await;
    assert_eq!(price(&p), 99.0);
    assert_eq!(p.count(EventStatus::Skipped).await, 1);
    assert_eq!(p.count(EventStatus::Success).await, 1);

    // A push without a last-modified time falls back to writing what it carries.
    p.accept(
        "record_updated",
        "rec_1",
        json!({"title": "Oak Chair", "price": "80"}),
        "no-clock",
    )
    .await;
    p.sync().await;
    assert_eq!(price(&p), 80.0);
    // And a newer change after it is written too.
    assert_eq!(
        send(&p, &body("75", "2026-12-01T10:10:00Z"), now - 3).await,
        202
    );
    p.sync().await;
    assert_eq!(price(&p), 75.0);
}
