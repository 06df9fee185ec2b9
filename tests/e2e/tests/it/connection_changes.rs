//! The ingress learns of a change to a connection at once, not when its cached copy expires:
//! the database notifies every ingress when a connection's status or secret changes.

use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_sent_right_after_connection_pause_is_refused() {
    let p = Pipeline::start().await;
    let chair = json!({"title": "Chair", "price": "1"});
    // The ingress has the connection cached now.
    p.accept("record_created", "rec_1", chair.clone(), "k1")
        .await;
    p.cli(&["connection", "pause", &p.connection.0.to_string()]);
    assert_eq!(
        p.push("record_updated", "rec_1", chair.clone(), "k2").await,
        403,
        "a paused connection's webhook is refused at once"
    );
    p.cli(&["connection", "resume", &p.connection.0.to_string()]);
    assert_eq!(p.push("record_updated", "rec_1", chair, "k3").await, 202);
}

#[tokio::test(flavor = "multi_thread")]
async fn right_after_rotate_secret_the_old_secret_is_refused() {
    let p = Pipeline::start().await;
    let chair = json!({"title": "Chair", "price": "1"});
    p.accept("record_created", "rec_1", chair.clone(), "k1")
        .await;
    let rotated = p.cli(&["connection", "rotate-secret", &p.connection.0.to_string()]);
    assert!(rotated["webhookSecret"].is_string(), "{rotated}");
    assert_eq!(
        p.push("record_updated", "rec_1", chair, "k2").await,
        401,
        "the old secret no longer verifies"
    );
}
