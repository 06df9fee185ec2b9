//! Hostile bodies, correctly signed: invalid UTF-8, deep nesting, huge numbers, repeated keys
//! and NUL characters; and unreadable values in the headers the ingress reads.

use serde_json::Value;

use super::{BODY, DUPLICATE_REFUSED, NOT_JSON, NUL_REFUSED, Target, UNREADABLE_HEADER};

#[tokio::test(flavor = "multi_thread")]
async fn invalid_utf8_is_400_in_bodies_and_in_the_headers_read() {
    let t = Target::new().await;
    for body in [
        &b"{\"record_id\":\"r\xff\"}"[..],
        b"\xff\xfe{\"record_id\":\"r\"}",
        // A surrogate encoded in UTF-8 (CESU-8), and an overlong '/'.
        b"{\"record_id\":\"\xed\xa0\x80\"}",
        b"{\"record_id\":\"\xc0\xaf\"}",
        // A lone surrogate as an escape.
        br#"{"record_id":"\ud800"}"#,
    ] {
        t.refused(body, NOT_JSON).await;
    }

    // A header the ingress reads that is not visible ASCII is refused, not taken as absent
    // (which would change how the event is deduplicated).
    for (name, value) in [
        ("x-idempotency-key", &b"\xff\xfe"[..]),
        ("x-idempotency-key", "clé-1".as_bytes()),
        ("x-smartsuite-timestamp", b"\xff"),
    ] {
        let response = t.push_bytes(BODY.as_bytes(), &[(name, value)]).await;
        assert_eq!(response.status(), 400, "{name}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], UNREADABLE_HEADER, "{name}");
    }
    // An unreadable signature is no signature.
    let response = t
        .app
        .http
        .post(t.app.url(&t.path()))
        .header(
            "x-smartsuite-signature",
            reqwest::header::HeaderValue::from_bytes(b"sha256=\xff\xfe").unwrap(),
        )
        .body(BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    t.still_serves(0).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deeply_nested_json_is_400_and_moderate_nesting_is_stored() {
    let t = Target::new().await;
    let arrays = "[".repeat(100_000);
    let objects = r#"{"a":"#.repeat(100_000);
    let in_data = format!(
        r#"{{"record_id":"r","data":{{"x":{}1{}}}}}"#,
        "[".repeat(1000),
        "]".repeat(1000)
    );
    // Refused by the depth limit, not by a stack overflow (the server runs in this test's
    // process, so an overflow would abort the test); speed is a benchmark's business.
    for body in [&arrays, &objects, &in_data] {
        t.refused(body.as_bytes(), NOT_JSON).await;
    }
    // Within serde_json's limit of 128 levels, nesting is data like any other.
    let deep = format!(
        r#"{{"record_id":"deep","data":{{"x":{}1{}}}}}"#,
        "[".repeat(100),
        "]".repeat(100)
    );
    let event = t.accepted(deep.as_bytes()).await;
    let mut value = &event.payload["data"]["x"];
    for _ in 0..100 {
        value = &value[0];
    }
    assert_eq!(value, &Value::from(1));
    t.still_serves(1).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn huge_numbers_are_400_unless_they_fit_a_double() {
    let t = Target::new().await;
    let ten_thousand_digits = "9".repeat(10_000);
    // Beyond f64's range serde_json refuses the number, so the body is not JSON to us.
    for body in [
        r#"{"record_id":1e400}"#.to_string(),
        r#"{"record_id":"r","data":{"n":-1e400}}"#.to_string(),
        format!(r#"{{"record_id":"r","data":{{"n":{ten_thousand_digits}}}}}"#),
        format!(r#"{{"record_id":"r","data":{{"n":0.{ten_thousand_digits}e99999}}}}"#),
    ] {
        t.refused(body.as_bytes(), NOT_JSON).await;
    }
    // A numeric record_id must be an integer of at most 64 bits: anything else arrives as an
    // f64, whose text is not the sender's id (2^64 would become "18446744073709552000").
    for body in [
        r#"{"record_id":18446744073709551616}"#,
        r#"{"record_id":-9223372036854775809}"#,
        r#"{"record_id":1.5}"#,
        r#"{"record_id":1e3}"#,
    ] {
        t.refused(
            body.as_bytes(),
            "record_id must be a string or an integer of at most 64 bits",
        )
        .await;
    }
    let event = t.accepted(br#"{"record_id":18446744073709551615}"#).await;
    assert_eq!(event.external_id, "18446744073709551615");
    let event = t.accepted(br#"{"record_id":-9223372036854775808}"#).await;
    assert_eq!(event.external_id, "-9223372036854775808");
    // In data, a 300-digit integer is kept as the nearest double (serde_json without
    // arbitrary_precision, and so does the worker's mapper).
    let body = format!(
        r#"{{"record_id":"big","data":{{"n":{}}}}}"#,
        "9".repeat(300)
    );
    let event = t.accepted(body.as_bytes()).await;
    assert_eq!(event.payload["data"]["n"].as_f64(), Some(1e300));
    t.still_serves(3).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicate_keys_are_400_at_any_depth() {
    let t = Target::new().await;
    for body in [
        r#"{"record_id":"a","record_id":"b"}"#,
        r#"{"record_id":"a","record_id":"a"}"#,
        // The same key once escaped: equal after decoding.
        r#"{"record_id":"a","record\u005fid":"b"}"#,
        r#"{"record_id":"a","data":{"title":"x","title":"y"}}"#,
        r#"{"record_id":"a","data":{"list":[{"k":1,"k":2}]}}"#,
    ] {
        t.refused(body.as_bytes(), DUPLICATE_REFUSED).await;
    }
    // The same key in sibling objects is not a duplicate.
    let event = t
        .accepted(br#"{"record_id":"a","data":{"l":[{"k":1},{"k":2}],"m":{"k":3}}}"#)
        .await;
    assert_eq!(event.payload["data"]["l"][1]["k"], 2);
    t.still_serves(1).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn nul_anywhere_in_a_string_or_key_is_400_and_writes_nothing() {
    let t = Target::new().await;
    // PostgreSQL's jsonb cannot hold U+0000: the ingress refuses it before the insert (which
    // would fail, and was answered 503 before the check).
    for body in [
        r#"{"record_id":"r","data":{"title":"a\u0000b"}}"#,
        r#"{"record_id":"r","data":{"a\u0000":1}}"#,
        r#"{"record_id":"r","data":{"list":[["\u0000"]]}}"#,
        r#"{"record_id":"r\u0000"}"#,
        r#"{"record_id":"r","event_type":"record_updated\u0000"}"#,
        r#"{"record_id":"r","\u0000":null}"#,
    ] {
        t.refused(body.as_bytes(), NUL_REFUSED).await;
    }
    // A raw NUL byte is not JSON at all, inside a string or after the value.
    t.refused(b"{\"record_id\":\"r\0\"}", NOT_JSON).await;
    t.refused(b"{\"record_id\":\"r\"}\0", NOT_JSON).await;
    assert_eq!(t.rows().await, 0);

    // The six characters `\u0000` (an escaped backslash) are ordinary text, stored as sent.
    let event = t
        .accepted(br#"{"record_id":"r","data":{"text":"\\u0000"}}"#)
        .await;
    assert_eq!(event.payload["data"]["text"], "\\u0000");
    t.still_serves(1).await;
}
