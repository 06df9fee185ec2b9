//! Solutions, tables, records (2,500 of them, paged), files: paths, headers and shapes.

use serde_json::json;
use suiteflow_smartsuite_client::{FieldType, ListRecords, Sort};

use crate::{client, fixture};

#[tokio::test]
async fn solutions_and_tables_keep_unknown_keys_and_types() {
    let f = fixture().await;
    let other_solution = f.smartsuite.add_solution("Other");
    f.smartsuite.add_table(&other_solution, "Elsewhere", vec![]);
    let client = client(&f.smartsuite);

    let solutions = client.list_solutions().await.unwrap();
    assert_eq!(solutions.len(), 2);
    assert_eq!(solutions[0].name.as_deref(), Some("Shop"));
    assert_eq!(client.list_tables(None).await.unwrap().len(), 2);
    let tables = client.list_tables(Some(&f.solution)).await.unwrap();
    assert_eq!(tables.len(), 1);
    assert_eq!(tables[0].id, f.table);

    let table = client.get_table(&f.table).await.unwrap();
    assert_eq!(table.primary_field.as_deref(), Some("title"));
    let holo = table.field("s1holo0001").unwrap();
    assert_eq!(holo.field_type, FieldType::Other("hologramfield".into()));
    assert_eq!(holo.extra["brand_new_key"], true);
    assert_eq!(holo.params["beam"], 3);
    assert_eq!(table.field("status").unwrap().choices()[1].label, "Done");
    assert!(
        table.extra.contains_key("record_term"),
        "unknown table keys are kept"
    );

    let requests = f.smartsuite.requests();
    for r in &requests {
        assert!(r.path.ends_with('/'), "trailing slash: {}", r.path);
        assert!(r.path.starts_with("/api/v1/"), "{}", r.path);
        assert_eq!(
            r.header("authorization"),
            Some(format!("Token {}", f.smartsuite.api_key()).as_str())
        );
        assert_eq!(
            r.header("account-id"),
            Some(f.smartsuite.account_id().as_str())
        );
    }
    assert_eq!(
        requests[2].query_param("solution").as_deref(),
        Some(f.solution.as_str())
    );
}

#[tokio::test]
async fn paging_over_2500_records() {
    let f = fixture().await;
    let rows: Vec<_> = (0..2500)
        .map(|n| json!({"title": format!("Product {n:04}"), "s1price0001": format!("{n}.0")}))
        .collect();
    f.smartsuite.insert_records(&f.table, rows);
    let client = client(&f.smartsuite);

    let all = client
        .list_all_records(&f.table, &ListRecords::default(), 1000)
        .await
        .unwrap();
    assert_eq!(all.len(), 2500);
    assert_eq!(all[0].get("title"), Some(&json!("Product 0000")));
    assert_eq!(all[2499].get("title"), Some(&json!("Product 2499")));
    let ids: std::collections::HashSet<_> =
        all.iter().map(|r| r.id().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 2500, "no record twice");
    let pages: Vec<(String, Option<String>, Option<String>)> = f
        .smartsuite
        .requests()
        .iter()
        .map(|r| {
            (
                r.path.clone(),
                r.query_param("offset"),
                r.query_param("limit"),
            )
        })
        .collect();
    let list_path = format!("/api/v1/applications/{}/records/list/", f.table);
    assert_eq!(
        pages,
        vec![
            (list_path.clone(), Some("0".into()), Some("1000".into())),
            (list_path.clone(), Some("1000".into()), Some("1000".into())),
            (list_path, Some("2000".into()), Some("1000".into())),
        ]
    );

    let page = client
        .list_records(&f.table, &ListRecords::default(), 2400, 1000)
        .await
        .unwrap();
    assert_eq!(
        (page.total, page.offset, page.limit, page.items.len()),
        (2500, 2400, 1000, 100)
    );
    let err = client
        .list_records(&f.table, &ListRecords::default(), 0, 1001)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        suiteflow_smartsuite_client::Error::Validation { .. }
    ));
}

#[tokio::test]
async fn filter_sort_and_single_record() {
    let f = fixture().await;
    let ids = f.smartsuite.insert_records(
        &f.table,
        vec![
            json!({"title": "b", "s1price0001": "20", "status": {"value": "backlog"}}),
            json!({"title": "a", "s1price0001": "5", "status": {"value": "complete"}}),
            json!({"title": "c", "s1price0001": "12.5", "status": {"value": "backlog"}, "empty": ""}),
        ],
    );
    let client = client(&f.smartsuite);
    let body = ListRecords {
        filter: Some(
            json!({"operator": "and", "fields": [{"field": "status", "comparison": "is", "value": "backlog"}]}),
        ),
        sort: vec![Sort::desc("s1price0001")],
        hydrated: Some(false),
    };
    let found = client.list_all_records(&f.table, &body, 100).await.unwrap();
    let titles: Vec<_> = found
        .iter()
        .map(|r| r.get("title").unwrap().as_str().unwrap())
        .collect();
    assert_eq!(titles, ["b", "c"]);
    let sent = f.smartsuite.requests()[0].body.clone();
    assert_eq!(
        sent["sort"],
        json!([{"field": "s1price0001", "direction": "desc"}])
    );
    assert_eq!(sent["hydrated"], false);

    let record = client.get_record(&f.table, &ids[2]).await.unwrap();
    assert_eq!(
        record.get("s1price0001"),
        Some(&json!("12.5")),
        "numbers stay strings"
    );
    assert!(record.get("empty").is_none(), "empty values are omitted");
    assert!(record.get("first_created").is_some());
}

#[tokio::test]
async fn shared_file_url() {
    let f = fixture().await;
    let url = f.smartsuite.add_file("a4d988eCTCKZ62XMqUIj");
    let client = client(&f.smartsuite);
    assert_eq!(
        client
            .shared_file_url("a4d988eCTCKZ62XMqUIj")
            .await
            .unwrap(),
        url
    );
    let err = client.shared_file_url("missing").await.unwrap_err();
    assert!(
        matches!(err, suiteflow_smartsuite_client::Error::NotFound { .. }),
        "{err:?}"
    );
    assert_eq!(
        f.smartsuite.requests()[0].path,
        "/api/v1/shared-files/a4d988eCTCKZ62XMqUIj/url/"
    );
}
