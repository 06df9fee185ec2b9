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
