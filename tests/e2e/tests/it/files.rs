//! SmartSuite files: a file's public URL is asked of SmartSuite once, then kept in the
//! database until it expires, so neither another replica nor a restart pays for it again.

use serde_json::json;
use suiteflow_store::EventStatus;
use suiteflow_test_support::fixtures::{ConnectionSpec, create_connection, set_mapping, test_keys};
use suiteflow_test_support::webflow::{CollectionSpec, FieldSpec};

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_files_url_is_asked_of_smartsuite_once_for_every_replica() {
    let p = Pipeline::start().await;
    let table = p.ss.add_table(
        &p.solution,
        "Gallery",
        vec![json!({"slug": "photo", "label": "Photo", "field_type": "filefield", "params": {}})],
    );
    let collection =
        p.wf.add_collection(CollectionSpec::new("Gallery").field(FieldSpec::new("photo", "Image")));
    let spec = ConnectionSpec {
        smartsuite_account_id: p.ss.account_id(),
        smartsuite_table_id: table,
        smartsuite_api_key: p.ss.api_key(),
        webflow_site_id: p.wf.site_id(),
        webflow_collection_id: collection.clone(),
        webflow_token: p.wf.token(),
        retry_backoff_ms: 1,
        ..ConnectionSpec::default()
    };
    let gallery = create_connection(p.db.url(), &test_keys(), &spec).await;
    set_mapping(
        p.db.url(),
        gallery,
        json!({
            "fieldMap": {
                "name": {"type": "direct", "source": "title"},
                "photo": {"type": "direct", "source": "photo"}
            },
            "slugTemplate": "{{title}}"
        }),
    )
    .await;
    let url = p.ss.add_file("h-sunset");
    let record = |id: &str, title: &str| {
        (
            id.to_string(),
            json!({"id": id, "title": title,
                   "photo": [{"handle": "h-sunset", "metadata": {"filename": "sunset.jpg"}}]}),
        )
    };
    let file_calls = || {
        p.ss.requests()
            .iter()
            .filter(|r| r.path.contains("h-sunset"))
            .count()
    };

    p.enqueue_records(gallery, &[record("r1", "Sunset")]).await;
    p.sync().await;
    assert_eq!(file_calls(), 1, "the URL was asked for once");
    // Another replica, with nothing in its memory, writes another record with the same file.
    let second = p.another_worker().await;
    p.enqueue_records(gallery, &[record("r2", "Sunset again")])
        .await;
    second.run_until_empty().await.unwrap();
    assert_eq!(p.count(EventStatus::Success).await, 2);
    assert_eq!(
        file_calls(),
        1,
        "the second replica found the URL in the database"
    );
    let items = p.wf.items(&collection);
    assert_eq!(items.len(), 2);
    for item in &items {
        assert_eq!(item["fieldData"]["photo"]["url"], url.as_str(), "{item}");
    }
}

/// A gallery connection: a SmartSuite table with a file field, a Webflow collection with an
/// Image field, the mapping between them.
async fn gallery(p: &Pipeline) -> (suiteflow_store::ConnectionId, String) {
    let table = p.ss.add_table(
        &p.solution,
        "Gallery",
        vec![
            json!({"slug": "photo", "label": "Photo", "field_type": "filefield", "params": {}}),
            json!({"slug": "caption", "label": "Caption", "field_type": "textfield", "params": {}}),
        ],
    );
    let collection = p.wf.add_collection(
        CollectionSpec::new("Gallery")
            .field(FieldSpec::new("photo", "Image"))
            .field(FieldSpec::new("caption", "PlainText")),
    );
    let spec = ConnectionSpec {
        smartsuite_account_id: p.ss.account_id(),
        smartsuite_table_id: table,
        smartsuite_api_key: p.ss.api_key(),
        webflow_site_id: p.wf.site_id(),
        webflow_collection_id: collection.clone(),
        webflow_token: p.wf.token(),
        retry_backoff_ms: 1,
        ..ConnectionSpec::default()
    };
    let id = create_connection(p.db.url(), &test_keys(), &spec).await;
    set_mapping(
        p.db.url(),
        id,
        json!({
            "fieldMap": {
                "name": {"type": "direct", "source": "title"},
                "photo": {"type": "direct", "source": "photo"},
                "caption": {"type": "direct", "source": "caption"}
            },
            "slugTemplate": "{{title}}"
        }),
    )
    .await;
    (id, collection)
}

fn photo(handle: &str, filename: &str, size: u64) -> serde_json::Value {
    json!([{"handle": handle, "metadata": {"filename": filename, "size": size}}])
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_over_four_megabytes_is_not_sent_and_the_event_says_which() {
    let p = Pipeline::start().await;
    let (gallery, collection) = gallery(&p).await;
    p.ss.add_file("h-poster");
    let record = json!({"id": "r1", "title": "Poster",
                        "photo": photo("h-poster", "poster.tiff", 9 * 1024 * 1024)});
    p.enqueue_records(gallery, &[("r1".to_string(), record)])
        .await;
    p.sync().await;

    let [event] = p.events_of("r1").await.try_into().unwrap();
    assert_eq!(event.status, EventStatus::Success);
    assert!(event.partial_success);
    let warnings = event.warnings.unwrap().to_string();
    assert!(
        warnings.contains("poster.tiff") && warnings.contains("4 MB"),
        "{warnings}"
    );
    let item = p.wf.item_by_slug(&collection, "poster").unwrap();
    assert!(item["fieldData"]["photo"].is_null(), "{item}");
    assert!(
        !p.ss.requests().iter().any(|r| r.path.contains("h-poster")),
        "no URL asked for a file that is not sent"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_webflow_drops_is_a_warning_on_the_event() {
    let p = Pipeline::start().await;
    let (gallery, collection) = gallery(&p).await;
    let url = p.ss.add_file("h-broken");
    p.wf.make_files_unfetchable(&url);
    let record = json!({"id": "r1", "title": "Broken", "photo": photo("h-broken", "b.png", 1000)});
    p.enqueue_records(gallery, &[("r1".to_string(), record)])
        .await;
    p.sync().await;

    let [event] = p.events_of("r1").await.try_into().unwrap();
    assert_eq!(event.status, EventStatus::Success);
    assert!(event.partial_success, "{event:?}");
    let warnings = event.warnings.unwrap().to_string();
    assert!(
        warnings.contains("photo: Webflow dropped the file") && warnings.contains(&url),
        "{warnings}"
    );
    let item = p.wf.item_by_slug(&collection, "broken").unwrap();
    assert!(item["fieldData"]["photo"].is_null(), "{item}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_written_again_with_an_unchanged_file_sends_no_new_upload() {
    let p = Pipeline::start().await;
    let (gallery, collection) = gallery(&p).await;
    let url = p.ss.add_file("h-dune");
    let record = |caption: &str| {
        json!({"id": "r1", "title": "Dune", "caption": caption,
               "photo": photo("h-dune", "dune.jpg", 2000)})
    };
    p.enqueue_records(gallery, &[("r1".to_string(), record("first"))])
        .await;
    p.sync().await;
    let sent_photo = |p: &Pipeline| {
        p.wf.requests()
            .iter()
            .filter(|r| r.method != "GET" && r.path.contains(&collection))
            .map(|r| r.body.to_string())
            .filter(|body| body.contains(&url))
            .count()
    };
    assert_eq!(sent_photo(&p), 1, "the create carried the file");

    // The caption changes, the file does not: the PATCH leaves the file out.
    p.wf.clear_requests();
    p.enqueue_records(gallery, &[("r1".to_string(), record("second"))])
        .await;
    p.sync().await;
    let patches: Vec<_> =
        p.wf.requests()
            .into_iter()
            .filter(|r| r.method == "PATCH")
            .collect();
    assert_eq!(patches.len(), 1, "{patches:?}");
    assert!(patches[0].body.to_string().contains("second"));
    assert_eq!(sent_photo(&p), 0, "no new upload");
    let item = p.wf.item_by_slug(&collection, "dune").unwrap();
    assert_eq!(item["fieldData"]["photo"]["url"], url.as_str(), "{item}");
    assert_eq!(item["fieldData"]["caption"], "second");

    // A new file is sent.
    let other = p.ss.add_file("h-dune-2");
    let mut changed = record("second");
    changed["photo"] = photo("h-dune-2", "dune2.jpg", 2000);
    p.enqueue_records(gallery, &[("r1".to_string(), changed)])
        .await;
    p.sync().await;
    let item = p.wf.item_by_slug(&collection, "dune").unwrap();
    assert_eq!(item["fieldData"]["photo"]["url"], other.as_str(), "{item}");
}
