//! The HTTP plumbing both stand-ins share: a hyper HTTP/1 server on 127.0.0.1, port 0, with a
//! log of every request served and faults injected on demand (error statuses, slow answers, a
//! connection dropped after the request was applied).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

/// A fault the stand-in applies to the next matching requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status (and the API's usual error body) without applying the request.
    Status(u16),
    /// Answer with this status and this JSON body without applying the request.
    Reply(u16, Value),
    /// Apply the request, then wait this long before answering (to provoke client timeouts).
    Slow(Duration),
    /// Apply the request, then close the connection without answering.
    DropAfterApply,
    /// Close the connection without applying the request or answering.
    DropBeforeApply,
    /// Answer this status without applying the request, then apply it just before handling
    /// the next request with the same method and path: a server that committed a write late,
    /// after the client had looked for it and before the client sent it again.
    ApplyLate(u16),
}

/// A rule: `fault` for the next `times` requests whose method is `method` (any when `None`)
/// and whose path contains `path_contains` (any when `None`); with `per_mille`, only for that
/// share of them, drawn from a seeded generator (the same seed gives the same sequence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    pub fault: Fault,
    pub times: usize,
    pub method: Option<String>,
    pub path_contains: Option<String>,
    pub per_mille: Option<u32>,
    rng: u64,
}

impl FaultRule {
    pub fn new(fault: Fault, times: usize) -> Self {
        Self {
            fault,
            times,
            method: None,
            path_contains: None,
            per_mille: None,
            rng: 0,
        }
    }

    /// Applies to about `per_mille`/1000 of the matching requests (`times` counts the ones it
    /// applied to), chosen by a xorshift generator seeded with `seed`.
    pub fn share(mut self, per_mille: u32, seed: u64) -> Self {
        self.per_mille = Some(per_mille.min(1000));
        self.rng = seed | 1;
        self
    }

    /// Whether the rule applies to the next matching request.
    fn draw(&mut self) -> bool {
        let Some(per_mille) = self.per_mille else {
            return true;
        };
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng % 1000 < u64::from(per_mille)
    }

    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    pub fn path_contains(mut self, fragment: &str) -> Self {
        self.path_contains = Some(fragment.to_owned());
        self
    }
}

/// One request the stand-in served, for assertions.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    pub method: String,
    /// The path as sent, prefix included (`/v2/collections/…`).
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    /// The body as JSON (`Value::Null` when empty, a string when not JSON).
    pub body: Value,
    /// The status answered; for a dropped connection, the status it would have had (0 when
    /// dropped before applying).
    pub status: u16,
    /// The connection was closed instead of answering.
    pub dropped: bool,
    /// A fault was applied to this request.
    pub fault: Option<Fault>,
    /// When the request arrived.
    pub at: std::time::Instant,
}

impl RecordedRequest {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A query parameter's value.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = self.query.as_deref()?;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// A request as a stand-in's handler sees it.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Call {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn query_pairs(&self) -> Vec<(String, String)> {
        let query = self.query.as_deref().unwrap_or("");
        url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect()
    }

    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    pub fn json(&self) -> Value {
        body_json(&self.body)
    }
}

/// A handler's answer.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Bytes>,
    pub content_type: &'static str,
}

impl Outgoing {
    pub fn json(status: u16, body: &Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Some(Bytes::from(body.to_string())),
            content_type: "application/json",
        }
    }

    pub fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Some(Bytes::from(body.to_owned())),
            content_type: "text/plain; charset=utf-8",
        }
    }

    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: None,
            content_type: "application/json",
        }
    }

    pub fn header(mut self, name: &str, value: impl ToString) -> Self {
        self.headers.push((name.to_owned(), value.to_string()));
        self
    }
}

pub(crate) type Handler = Arc<dyn Fn(&Call) -> Outgoing + Send + Sync>;
pub(crate) type FaultBody = fn(u16) -> Outgoing;

struct Shared {
    handler: Handler,
    fault_body: FaultBody,
    faults: Mutex<Vec<FaultRule>>,
    log: Mutex<Vec<RecordedRequest>>,
    /// Requests answered with [`Fault::ApplyLate`], not applied yet.
    late: Mutex<Vec<Call>>,
}

/// A running server; stopped (listener and open connections) when dropped.
pub(crate) struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The server closes the connection instead of answering.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for DropConnection {}

impl Server {
    /// Binds 127.0.0.1:0 and serves `handler` on the current tokio runtime.
    pub async fn start(handler: Handler, fault_body: FaultBody) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            handler,
            fault_body,
            faults: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            late: Mutex::new(Vec::new()),
        });
        let accept_shared = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                while connections.try_join_next().is_some() {}
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let shared = Arc::clone(&accept_shared);
                connections.spawn(async move {
                    let service = service_fn(move |req| serve(Arc::clone(&shared), req));
                    // Errors here are dropped connections (ours or the client's).
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { addr, shared, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn inject(&self, rule: FaultRule) {
        lock(&self.shared.faults).push(rule);
    }

    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.log).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }
}

fn take_fault(shared: &Shared, method: &str, path: &str) -> Option<Fault> {
    let mut faults = lock(&shared.faults);
    let index = faults.iter_mut().position(|r| {
        r.times > 0
            && r.method.as_deref().is_none_or(|m| m == method)
            && r.path_contains.as_deref().is_none_or(|p| path.contains(p))
            && r.draw()
    })?;
    let rule = &mut faults[index];
    rule.times -= 1;
    let fault = rule.fault.clone();
    if rule.times == 0 {
        faults.remove(index);
    }
    Some(fault)
}

async fn serve(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DropConnection> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let incoming = Call {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
    };
    let due: Vec<Call> = {
        let mut late = lock(&shared.late);
        let (due, rest) = late
            .drain(..)
            .partition(|c| c.method == incoming.method && c.path == incoming.path);
        *late = rest;
        due
    };
    for call in &due {
        (shared.handler)(call);
    }
    let fault = take_fault(&shared, &incoming.method, &incoming.path);
    let mut record = RecordedRequest {
        method: incoming.method.clone(),
        path: incoming.path.clone(),
        query: incoming.query.clone(),
        headers: incoming.headers.clone(),
        body: incoming.json(),
        status: 0,
        dropped: false,
        fault: fault.clone(),
        at: std::time::Instant::now(),
    };
    let outgoing = match &fault {
        Some(Fault::Status(status)) => (shared.fault_body)(*status),
        Some(Fault::Reply(status, body)) => Outgoing::json(*status, body),
        Some(Fault::ApplyLate(status)) => {
            lock(&shared.late).push(incoming.clone());
            (shared.fault_body)(*status)
        }
        Some(Fault::DropBeforeApply) => {
            record.dropped = true;
            lock(&shared.log).push(record);
            return Err(DropConnection);
        }
        _ => (shared.handler)(&incoming),
    };
    record.status = outgoing.status;
    match fault {
        Some(Fault::DropAfterApply) => {
            record.dropped = true;
            lock(&shared.log).push(record);
            return Err(DropConnection);
        }
        Some(Fault::Slow(wait)) => {
            lock(&shared.log).push(record);
            tokio::time::sleep(wait).await;
        }
        _ => lock(&shared.log).push(record),
    }
    Ok(to_response(outgoing))
}

fn to_response(out: Outgoing) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(out.body.clone().unwrap_or_default()));
    *response.status_mut() =
        StatusCode::from_u16(out.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    if out.body.is_some() {
        headers.insert(
            hyper::header::CONTENT_TYPE,
            HeaderValue::from_static(out.content_type),
        );
    }
    for (name, value) in out.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.append(name, value);
        }
    }
    response
}

fn body_json(body: &Bytes) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}
