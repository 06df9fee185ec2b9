//! Injection attempts: ids that look like SQL or paths, CRLF in headers, and control
//! characters in a record id.

use serde_json::Value;
use suiteflow_store::EventId;

use super::{BODY, CONTROL_REFUSED, RAW_LIMIT, Target, post, raw, signature_line};
use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn sql_and_path_like_ids_are_data_or_404() {
    let t = Target::new().await;
    let hostile = [
        "'; DROP TABLE events; --",
        "../../etc/passwd",
        r#"1' OR '1'='1"#,
        "$(rm -rf /)",
    ];
    for (n, record_id) in hostile.iter().enumerate() {
        let body = serde_json::json!({ "record_id": record_id, "data": { "note": record_id } })
            .to_string();
        let event = t.accepted(body.as_bytes()).await;
        assert_eq!(event.external_id, *record_id);
        assert_eq!(event.payload["data"]["note"], *record_id);
        // The events table is still there, with every row.
        assert_eq!(t.rows().await, n as i64 + 1);
    }

    // Hostile connection ids: 404, through the HTTP client and raw over TCP (no normalising).
    for path in [
        "/api/hooks/..%2F..%2Fetc",
        "/api/hooks/1%27%20OR%201=1",
        "/api/hooks/%27%3B%20DROP%20TABLE%20events%3B%20--",
        "/api/hooks/%00",
    ] {
        let response = t
            .app
            .http
            .post(t.app.url(path))
            .header("x-smartsuite-signature", sign(BODY))
            .body(BODY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], "Connection not found", "{path}");
    }
    for path in [
        "/api/hooks/../../etc/passwd",
        "/api/hooks/..",
        "/api/hooks/smartsuite/..%2F..%2Fetc/token",
        "/api/hooks/smartsuite/1%27%20OR%201=1/x",
    ] {
        let request = post(path, &signature_line(BODY.as_bytes()), BODY.as_bytes());
        let answer = raw(&t.addr(), &request, RAW_LIMIT).await;
        assert_eq!(answer.status, Some(404), "{path}: {answer:?}");
    }
    // A SQL-like SmartSuite token on a real connection is just a wrong token.
    let path = format!(
        "/api/hooks/smartsuite/{}/%27%3B%20DROP%20TABLE%20events%3B%20--",
        t.id.0
    );
    let response = t
        .app
        .http
        .post(t.app.url(&path))
        .body(r#"{"webhookId":"w"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    t.still_serves(hostile.len() as i64).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn header_injection_and_control_characters_are_refused() {
    let t = Target::new().await;
    let injected = "x-idempotency-key: a\r\nx-evil: 1\r\n";

    // CRLF ends a header line on the wire: `a\r\nx-evil: 1` is two headers, `x-evil` is ignored.
    // Unsigned: 401.
    let answer = raw(
        &t.addr(),
        &post(&t.path(), injected, BODY.as_bytes()),
        RAW_LIMIT,
    )
    .await;
    assert_eq!(answer.status, Some(401), "{answer:?}");
    assert_eq!(t.rows().await, 0);
    // Signed: accepted, and the key is exactly `a`.
    let headers = format!("{}{injected}", signature_line(BODY.as_bytes()));
    let answer = raw(
        &t.addr(),
        &post(&t.path(), &headers, BODY.as_bytes()),
        RAW_LIMIT,
    )
    .await;
    assert_eq!(answer.status, Some(202), "{answer:?}");
    assert!(
        !answer.text.to_ascii_lowercase().contains("x-evil"),
        "{answer:?}"
    );
    let body = answer.text.split("\r\n\r\n").nth(1).unwrap();
    let id: uuid::Uuid = serde_json::from_str::<Value>(body).unwrap()["eventId"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let event = suiteflow_store::queue::get_event(&mut t.app.db().await, EventId(id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.idempotency_key, "a");
    assert_eq!(t.rows().await, 1);

    // A bare CR, a NUL, a line folded onto the next: actix refuses the head with 400, signed
    // or not, and closes.
    for bad in [
        "x-idempotency-key: b\rx-evil: 1\r\n",
        "x-idempotency-key: b\0c\r\n",
        "x-idempotency-key: b\r\n x-evil: 1\r\n",
        "x-idem\0potency-key: b\r\n",
    ] {
        let headers = format!("{}{bad}", signature_line(BODY.as_bytes()));
        let answer = raw(
            &t.addr(),
            &post(&t.path(), &headers, BODY.as_bytes()),
            RAW_LIMIT,
        )
        .await;
        assert_eq!(answer.status, Some(400), "{bad:?}: {answer:?}");
        assert!(answer.closed, "{bad:?}: {answer:?}");
    }

    // Control characters in a record_id (JSON escapes, correctly signed): 400.
    for record_id in [
        "a\r\nx-evil: 1",
        "a\nb",
        "\u{7}",
        "a\u{7f}",
        "a\u{85}b",
        "\u{1b}[31m",
    ] {
        let body = serde_json::json!({ "record_id": record_id }).to_string();
        t.refused(body.as_bytes(), CONTROL_REFUSED).await;
    }
    // Whitespace around a record_id, CR and LF included, is trimmed away (it always was).
    let body = serde_json::json!({ "record_id": "\r\n a\t\n" }).to_string();
    let event = t.accepted(body.as_bytes()).await;
    assert_eq!(event.external_id, "a");
    t.still_serves(2).await;
}
