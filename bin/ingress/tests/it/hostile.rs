//! Hostile input against the real ingress (issue #10): oversized and malformed heads, slow and
//! vanishing clients, bodies that are correctly signed but nasty as JSON, and ids that look like
//! SQL or paths. Every test checks that no answer is a 5xx, that nothing panicked, that only an
//! authenticated, accepted push writes a row, and that the server still accepts a valid push
//! afterwards.

use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use suiteflow_store::{ConnectionId, EventId};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::support::*;

const BODY: &str =
    r#"{"event_type":"record_updated","record_id":"rec_1","data":{"title":"Chair"}}"#;
const NOT_JSON: &str = "Body is not valid JSON";
const NUL_REFUSED: &str = "Body must not contain \\u0000 in a string or key";
const DUPLICATE_REFUSED: &str = "Body must not repeat a key in an object";
const UNREADABLE_HEADER: &str =
    "x-idempotency-key and x-smartsuite-timestamp must be visible ASCII";
const CONTROL_REFUSED: &str = "record_id must be at most 256 characters without control characters";

/// Panics anywhere in this test's process (nextest runs each test in its own process, and the
/// server's workers are threads of it): a handler that panicked would otherwise only show as a
/// dropped connection.
static PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            default(info);
        }));
    });
}

/// A running ingress with one active `hmac` connection.
struct Target {
    app: TestApp,
    id: ConnectionId,
}

impl Target {
    async fn new() -> Self {
        count_panics();
        let app = TestApp::spawn().await;
        let id = app.hmac_connection().await;
        Self { app, id }
    }

    fn addr(&self) -> String {
        self.app.base.trim_start_matches("http://").to_string()
    }

    fn path(&self) -> String {
        format!("/api/hooks/{}", self.id.0)
    }

    /// A push of raw bytes, signed over exactly those bytes, with raw header values.
    async fn push_bytes(&self, body: &[u8], headers: &[(&str, &[u8])]) -> reqwest::Response {
        self.app.push_raw(self.id, body, headers).await
    }

    /// Pushes `body` (signed) and expects 400 with `message`.
    async fn refused(&self, body: &[u8], message: &str) {
        let what = String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned();
        let response = self.push_bytes(body, &[]).await;
        assert_eq!(response.status(), 400, "{what}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], message, "{what}");
    }

    /// Pushes `body` (signed), expects 202 and returns the stored event.
    async fn accepted(&self, body: &[u8]) -> suiteflow_store::Event {
        let what = String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned();
        let response = self.push_bytes(body, &[]).await;
        assert_eq!(response.status(), 202, "{what}");
        self.stored(response).await
    }

    async fn stored(&self, response: reqwest::Response) -> suiteflow_store::Event {
        let answer: Value = response.json().await.unwrap();
        let id: uuid::Uuid = answer["eventId"].as_str().unwrap().parse().unwrap();
        suiteflow_store::queue::get_event(&mut self.app.db().await, EventId(id))
            .await
            .unwrap()
            .unwrap()
    }

    async fn rows(&self) -> i64 {
        self.app.event_count().await
    }

    /// What every test ends with: nothing panicked, there are `rows` rows, and the server still
    /// accepts a valid push (its row is the only one added).
    async fn still_serves(&self, rows: i64) {
        assert_eq!(PANICS.load(Ordering::SeqCst), 0, "a thread panicked");
        assert_eq!(self.rows().await, rows);
        let key = [(
            "x-idempotency-key",
            format!("after-{}", uuid::Uuid::new_v4()),
        )];
        let response = self.app.push_hmac(self.id, BODY, &key).await;
        assert_eq!(
            response.status(),
            202,
            "the server no longer accepts a push"
        );
        assert_eq!(self.rows().await, rows + 1);
        assert_eq!(PANICS.load(Ordering::SeqCst), 0, "a thread panicked");
    }
}

/// What a raw exchange produced.
#[derive(Debug)]
struct Raw {
    /// The status code of the first response, if the server sent one.
    status: Option<u16>,
    /// Everything the server sent.
    text: String,
    /// Whether the server closed (or reset) the connection before `limit` passed.
    closed: bool,
    /// From the end of the write to the close, or to `limit`.
    elapsed: Duration,
}

/// Writes `request` on a fresh connection, then reads until the server closes it or `limit`
/// passes.
async fn raw(addr: &str, request: &[u8], limit: Duration) -> Raw {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // A server that refuses before reading everything may close while this still writes; what
    // it answered is read below all the same.
    let _ = stream.write_all(request).await;
    read_until_closed(&mut stream, limit).await
}

async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Raw {
    let start = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 8192];
    let closed = loop {
        let left = limit.saturating_sub(start.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => break false,
            Ok(Ok(0) | Err(_)) => break true,
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    };
    let text = String::from_utf8_lossy(&received).into_owned();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok());
    Raw {
        status,
        text,
        closed,
        elapsed: start.elapsed(),
    }
}

/// A `POST` with `connection: close`, the extra header lines `headers` (each ending in CRLF)
/// and `body`.
fn post(path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n{headers}\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

fn signature_line(body: &[u8]) -> String {
    format!("x-smartsuite-signature: {}\r\n", sign(body))
}

const RAW_LIMIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread")]
async fn oversized_heads_are_4xx_and_write_nothing() {
    let t = Target::new().await;
    let big = "a".repeat(64 * 1024);

    // 64 KiB fits actix's 128 KiB head buffer, so the handler sees it: an idempotency key that
    // long is refused even on a correctly signed push.
    let response = t
        .push_bytes(BODY.as_bytes(), &[("x-idempotency-key", big.as_bytes())])
        .await;
    assert_eq!(response.status(), 400);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer["error"],
        "x-idempotency-key is longer than 256 characters"
    );
    // Any other 64 KiB header on an unsigned push: still just 401.
    let response = t
        .app
        .http
        .post(t.app.url(&t.path()))
        .header("x-padding", &big)
        .body(BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    // More than 96 headers (actix's limit), on a correctly signed push: 431, connection closed.
    let many: String = (0..200).map(|i| format!("x-h{i}: {i}\r\n")).collect();
    let headers = format!("{}{many}", signature_line(BODY.as_bytes()));
    let answer = raw(
        &t.addr(),
        &post(&t.path(), &headers, BODY.as_bytes()),
        RAW_LIMIT,
    )
    .await;
    assert_eq!(answer.status, Some(431), "{answer:?}");
    assert!(answer.closed, "{answer:?}");

    // A head over 128 KiB (one 160 KiB header), signed: 431, connection closed. The server
    // stops reading at 128 KiB, so it closes with unread bytes, which resets the connection;
    // the 431 normally arrives first, but only the close is certain.
    let huge = format!("x-padding: {}\r\n", "b".repeat(160 * 1024));
    let headers = format!("{}{huge}", signature_line(BODY.as_bytes()));
    let answer = raw(
        &t.addr(),
        &post(&t.path(), &headers, BODY.as_bytes()),
        RAW_LIMIT,
    )
    .await;
    assert!(answer.closed, "{answer:?}");
    assert!(matches!(answer.status, Some(431) | None), "{answer:?}");

    t.still_serves(0).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_stalls_in_its_head_gets_408_and_is_disconnected() {
    let t = Target::new().await;
    // Signed, and the connection exists: only the head is unfinished.
    let partial = format!(
        "POST {} HTTP/1.1\r\nhost: localhost\r\n{}content-le",
        t.path(),
        signature_line(BODY.as_bytes())
    );
    let answer = raw(&t.addr(), partial.as_bytes(), Duration::from_secs(20)).await;
    assert!(answer.closed, "{answer:?}");
    assert_eq!(answer.status, Some(408), "{answer:?}");
    // The timer starts at the accept, just before the write.
    assert!(
        answer.elapsed <= ingress::CLIENT_HEAD_TIMEOUT + Duration::from_secs(2),
        "{answer:?}"
    );

    // Nothing at all after the connect: disconnected as well.
    let answer = raw(&t.addr(), b"", Duration::from_secs(20)).await;
    assert!(answer.closed, "{answer:?}");
    assert!(matches!(answer.status, Some(408) | None), "{answer:?}");
    assert!(
        answer.elapsed <= ingress::CLIENT_HEAD_TIMEOUT + Duration::from_secs(2),
        "{answer:?}"
    );
    t.still_serves(0).await;
}

/// actix-http arms its head timer for the first request of a connection only: a client that
/// sends one complete request, keeps the connection alive and then stalls in the next head is
/// never timed out. Bounding it needs keep-alive off (every request then gets the head timer)
/// or a proxy in front that times heads out; see issue #10.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "known gap: actix-http has no head timeout after the first request of a connection"]
async fn a_client_that_stalls_in_a_kept_alive_head_is_disconnected() {
    let t = Target::new().await;
    let mut stream = TcpStream::connect(t.addr()).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let partial = format!(
        "POST {} HTTP/1.1\r\nhost: localhost\r\ncontent-le",
        t.path()
    );
    stream.write_all(partial.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut stream, Duration::from_secs(20)).await;
    assert!(answer.closed, "{answer:?}");
    t.still_serves(0).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_stalls_or_trickles_its_body_gets_408_and_is_disconnected() {
    let t = Target::new().await;
    let bound = ingress::body::CLIENT_BODY_TIMEOUT + Duration::from_secs(3);
    // A correctly signed push whose last 10 bytes never come.
    let request = post(&t.path(), &signature_line(BODY.as_bytes()), BODY.as_bytes());
    let addr = t.addr();
    let stalled = raw(
        &addr,
        &request[..request.len() - 10],
        Duration::from_secs(25),
    );

    // The same push, one byte of its body every 250 ms: it would take ~19 s.
    let body_start = request.len() - BODY.len();
    let trickled = async {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream.write_all(&request[..body_start]).await.unwrap();
        let start = Instant::now();
        let mut sent = 0;
        for byte in &request[body_start..] {
            // Stop writing once the server answers: writing after its close would reset the
            // connection and could lose the answer.
            let wait = tokio::time::timeout(Duration::from_millis(250), stream.readable());
            if wait.await.is_ok() || stream.write_all(&[*byte]).await.is_err() {
                break;
            }
            sent += 1;
        }
        let mut answer = read_until_closed(&mut stream, Duration::from_secs(25)).await;
        answer.elapsed = start.elapsed();
        (answer, sent)
    };
    let (stalled, (trickled, sent)) = tokio::join!(stalled, trickled);
    // It did trickle: about 40 bytes in 10 s, not all 77.
    assert!((20..BODY.len()).contains(&sent), "{sent} bytes sent");
    for answer in [stalled, trickled] {
        assert!(answer.closed, "{answer:?}");
        assert_eq!(answer.status, Some(408), "{answer:?}");
        assert!(answer.text.contains("connection: close"), "{answer:?}");
        assert!(
            answer.text.contains("Request body not received in time"),
            "{answer:?}"
        );
        assert!(
            answer.elapsed >= ingress::body::CLIENT_BODY_TIMEOUT - Duration::from_secs(1),
            "{answer:?}"
        );
        assert!(answer.elapsed <= bound, "{answer:?}");
    }
    // Counted like every refusal (the body extractor fails before the handler's body runs).
    let metrics = t.app.metrics().await;
    for counted in [
        r#"ingress_rejections_total{route="push",reason="body_timeout"} 2"#,
        r#"ingress_requests_total{route="push",status="408"} 2"#,
    ] {
        assert!(
            metrics.lines().any(|line| line == counted),
            "{counted} in:\n{metrics}"
        );
    }
    t.still_serves(0).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn thousands_of_dropped_connections_leave_the_server_serving() {
    let t = Target::new().await;
    let addr = t.addr();
    let flood = async {
        let mut connected = 0;
        for chunk in 0..8 {
            let mut tasks = tokio::task::JoinSet::new();
            for i in 0..250 {
                let addr = addr.clone();
                tasks.spawn(async move {
                    let Ok(mut stream) = TcpStream::connect(&addr).await else {
                        return false;
                    };
                    // A third drop at once, a third after half a head, a third after an
                    // unsigned push they never read the answer of.
                    match (chunk * 250 + i) % 3 {
                        0 => {}
                        1 => {
                            let _ = stream.write_all(b"POST /api/hooks/ HTTP/1.1\r\nho").await;
                        }
                        _ => {
                            let _ = stream.write_all(&post("/api/hooks/x", "", b"{}")).await;
                        }
                    }
                    true
                });
            }
            while let Some(done) = tasks.join_next().await {
                connected += usize::from(done.unwrap());
            }
        }
        connected
    };
    let connected = tokio::time::timeout(Duration::from_secs(20), flood)
        .await
        .expect("2,000 connects took more than 20 s");
    assert_eq!(connected, 2000);
    let health = t.app.http.get(t.app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    t.still_serves(0).await;
}

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
