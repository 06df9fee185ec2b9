//! Hostile input against the real ingress: oversized and malformed heads, slow and vanishing
//! clients, bodies that are correctly signed but nasty as JSON, and ids that look like SQL or
//! paths. Every test checks that no answer is a 5xx, that nothing panicked, that only an
//! authenticated, accepted push writes a row, and that the server still accepts a valid push
//! afterwards.
//!
//! This file holds the harness (a running ingress, raw TCP exchanges); the tests are split by
//! what they attack: `connections` (heads, slow clients, dropped connections), `bodies` (JSON
//! and encodings) and `injection` (SQL- and path-like ids, header injection, control
//! characters).

mod bodies;
mod connections;
mod injection;

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
