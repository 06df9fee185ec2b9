//! Contract test: every request the client can make goes to Prism serving Webflow's own
//! OpenAPI spec (`tests/data/openapi.mock.yaml`), and none draws an `sl-violations` finding.
//!
//! Prism comes from `SUITEFLOW_PRISM_URL` when set (e.g. started by `scripts/prism.sh start`),
//! otherwise this test starts it with `scripts/prism.sh` (which installs it with npm). If Prism
//! cannot be had, the test fails: it never passes without checking.

use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;
use suiteflow_crypto::SecretString;
use suiteflow_webflow_client::{
    BulkCreate, ItemData, ItemUpdate, ListItems, Target, WebflowClient,
};

const SITE: &str = "580e63e98c9a982ac9b8b741";
const COLLECTION: &str = "580e63fc8c9a982ac9b8b745";
const ITEM: &str = "580e64008c9a982ac9b8b754";
const LOCALE: &str = "653ad57de882f528b32e810e";

/// A Prism instance: from the environment, or started (and stopped on drop) by the script.
struct Prism {
    url: String,
    started: bool,
}

impl Prism {
    fn get() -> Self {
        if let Ok(url) = std::env::var("SUITEFLOW_PRISM_URL")
            && !url.trim().is_empty()
        {
            return Self {
                url: url.trim().trim_end_matches('/').to_owned(),
                started: false,
            };
        }
        let output = std::process::Command::new("bash")
            .arg(script())
            .arg("start")
            .output();
        match output {
            Ok(out) if out.status.success() => {
                let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                assert!(
                    url.starts_with("http://127.0.0.1:"),
                    "scripts/prism.sh start printed {url:?}"
                );
                Self { url, started: true }
            }
            Ok(out) => panic!(
                "the Webflow contract test needs Prism and could not start it (scripts/prism.sh start, \
                 or set SUITEFLOW_PRISM_URL): {}",
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => panic!(
                "the Webflow contract test needs Prism; running scripts/prism.sh failed: {e}"
            ),
        }
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        if self.started {
            let _ = std::process::Command::new("bash")
                .arg(script())
                .arg("stop")
                .arg(&self.url)
                .status();
        }
    }
}

fn script() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/prism.sh")
}

/// What the proxy saw of one exchange.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    status: u16,
    violations: Option<String>,
}

/// A loopback proxy in front of Prism that keeps each answer's status and `sl-violations`.
async fn recording_proxy(target: String) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let http = reqwest::Client::new();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (log, http, target) = (Arc::clone(&log), http.clone(), target.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let (log, http, target) = (Arc::clone(&log), http.clone(), target.clone());
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let path = parts
                            .uri
                            .path_and_query()
                            .map(|p| p.as_str().to_owned())
                            .unwrap_or_default();
                        let mut forward = http
                            .request(parts.method.clone(), format!("{target}{path}"))
                            .body(body);
                        for name in ["authorization", "content-type", "accept"] {
                            if let Some(v) = parts.headers.get(name) {
                                forward = forward.header(name, v.clone());
                            }
                        }
                        let answer = forward.send().await.unwrap();
                        let status = answer.status();
                        let violations = answer
                            .headers()
                            .get("sl-violations")
                            .map(|v| v.to_str().unwrap_or("?").to_owned());
                        let mut response = hyper::Response::builder().status(status);
                        for (name, value) in answer.headers() {
                            if !matches!(
                                name.as_str(),
                                "content-length" | "transfer-encoding" | "connection"
                            ) {
                                response = response.header(name, value);
                            }
                        }
                        let bytes = answer.bytes().await.unwrap_or_default();
                        log.lock().unwrap().push(Seen {
                            method: parts.method.to_string(),
                            path,
                            status: status.as_u16(),
                            violations,
                        });
                        Ok::<_, std::convert::Infallible>(response.body(Full::new(bytes)).unwrap())
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (base, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_request_satisfies_webflows_openapi_spec() {
    suiteflow_webflow_client::install_crypto_provider();
    let prism = Prism::get();
    let (base, seen) = recording_proxy(prism.url.clone()).await;
    let client = WebflowClient::builder(
        url::Url::parse(&base).unwrap(),
        SecretString::new("contract-test-token"),
    )
    .max_retries(0)
    .build()
    .unwrap();

    let item = || {
        ItemData::named("Hello", "hello")
            .draft(false)
            .archived(false)
    };
    let changes = || ItemData::default().field("name", "Renamed");
    let ids = vec![ITEM.to_owned()];
    let update = vec![ItemUpdate {
        id: ITEM.into(),
        data: changes(),
    }];
    let query = ListItems {
        offset: 0,
        limit: Some(100),
        slug: Some("hello".into()),
        name: Some("Hello".into()),
        cms_locale_id: Some(LOCALE.into()),
        created_since: Some(time::macros::datetime!(2026-11-26 10:30:00.5 +01:00)),
        updated_since: Some(time::macros::datetime!(2026-11-26 11:00:00 +01:00)),
        target: Target::Staged,
    };
    let mut failures = Vec::new();
    macro_rules! call {
        ($name:literal, $e:expr) => {
            if let Err(e) = $e.await {
                failures.push(format!("{}: {e}", $name));
            }
        };
    }
    call!("list_sites", client.list_sites());
    call!("get_site", client.get_site(SITE));
    call!("list_collections", client.list_collections(SITE));
    call!("get_collection", client.get_collection(COLLECTION));
    call!("list_items", client.list_items(COLLECTION, &query));
    call!(
        "list_items live",
        client.list_items(
            COLLECTION,
            &ListItems {
                target: Target::Live,
                ..query.clone()
            }
        )
    );
    call!(
        "list_all_items",
        client.list_all_items(COLLECTION, &ListItems::default())
    );
    call!(
        "find_item_by_slug",
        client.find_item_by_slug(COLLECTION, "hello")
    );
    call!(
        "get_item",
        client.get_item(COLLECTION, ITEM, Target::Staged)
    );
    call!(
        "get_item live",
        client.get_item(COLLECTION, ITEM, Target::Live)
    );
    call!(
        "create_item",
        client.create_item(COLLECTION, &item(), Target::Staged)
    );
    call!(
        "create_item live",
        client.create_item(COLLECTION, &item(), Target::Live)
    );
    call!(
        "create_items",
        client.create_items(COLLECTION, &[item(), item()], Target::Staged)
    );
    call!(
        "create_items live",
        client.create_items(COLLECTION, &[item(), item()], Target::Live)
    );
    let bulk = BulkCreate {
        cms_locale_ids: vec![LOCALE.into()],
        is_draft: Some(false),
        is_archived: Some(false),
        field_data: vec![item().field_data],
    };
    call!(
        "create_items_bulk",
        client.create_items_bulk(COLLECTION, &bulk)
    );
    call!(
        "update_item",
        client.update_item(COLLECTION, ITEM, &changes(), Target::Staged)
    );
    call!(
        "update_item live",
        client.update_item(COLLECTION, ITEM, &changes(), Target::Live)
    );
    call!(
        "update_items",
        client.update_items(COLLECTION, &update, Target::Staged)
    );
    call!(
        "update_items live",
        client.update_items(COLLECTION, &update, Target::Live)
    );
    call!("publish_items", client.publish_items(COLLECTION, &ids));
    call!("unpublish_item", client.unpublish_item(COLLECTION, ITEM));
    call!("unpublish_items", client.unpublish_items(COLLECTION, &ids));
    call!("delete_item", client.delete_item(COLLECTION, ITEM));
    call!("delete_items", client.delete_items(COLLECTION, &ids));

    let seen = seen.lock().unwrap().clone();
    let findings: Vec<String> = seen
        .iter()
        .filter(|s| s.violations.is_some() || s.status >= 300)
        .map(|s| {
            format!(
                "{} {} -> {} {}",
                s.method,
                s.path,
                s.status,
                s.violations.as_deref().unwrap_or("")
            )
        })
        .collect();
    assert!(seen.len() >= 24, "every call reached Prism: {seen:#?}");
    // A record deleted with `deleteBehavior: delete` takes its live item down, then deletes
    // the staged one: both requests are as the spec describes them.
    for path in [
        format!("/collections/{COLLECTION}/items/{ITEM}/live"),
        format!("/collections/{COLLECTION}/items/{ITEM}"),
    ] {
        assert!(
            seen.iter().any(|s| s.method == "DELETE"
                && s.path == path
                && s.status < 300
                && s.violations.is_none()),
            "DELETE {path}: {seen:#?}"
        );
    }
    assert!(
        failures.is_empty() && findings.is_empty(),
        "client errors: {failures:#?}\nPrism findings: {findings:#?}"
    );

    // the check can fail: an invalid body does draw a finding
    let bad = reqwest::Client::new()
        .post(format!("{base}/collections/{COLLECTION}/items"))
        .bearer_auth("t")
        .json(&json!({"fieldData": {"name": "no slug"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    assert!(bad.headers().contains_key("sl-violations"));
}
