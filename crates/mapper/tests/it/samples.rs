//! End-to-end mapping of a sample push payload and SmartSuite's sample records
//! onto a Webflow collection with every field type.

use serde_json::{Value, json};
use suiteflow_mapper::{
    MapError, MapResolvers, MappingDocument, NoResolvers, Warning, WarningKind, content_hash,
    validate,
};

use crate::fixtures::*;

fn expected_full() -> Value {
    json!({
        "assignees": "63a1f65723aaf6bcb564b1f1",
        "attachment": {"alt": "image (48).png", "url": "https://files.example/hero.png"},
        "author-count": 2,
        "author-name": "Peter Novosel",
        "author-post-total": 9,
        "author-titles": "Jane Doe, John Roe",
        "authors": ["wf-author-1"],
        "body": "<p>Hello <strong>world</strong></p>",
        "brand": "Acme",
        "brand-color": "#814C4C",
        "campaign-code": "SPRING-2023",
        "campaign-start": "2023-05-09T00:00:00.000Z",
        "category": "opt-news",
        "checklist": "<ul><li><p>test</p></li></ul>",
        "comments": 0,
        "contact-email": "peter@smartsuite.com",
        "created-on": "2023-05-05T16:05:37.529Z",
        "discount": 42,
        "due": "2023-05-12T00:00:00.000Z",
        "featured": true,
        "gallery": [{"alt": "image (48).png", "url": "https://files.example/hero.png"}],
        "headline": "Launch Notes: Spring Release (News, 09.05.2023)",
        "hero": {"alt": "image (48).png", "url": "https://files.example/hero.png"},
        "intro-video": "https://vimeo.com/76979871",
        "lead-author": "wf-author-1",
        "location": "15549 West 166th Street, Olathe, Kansas, 66062, United States",
        "name": "Launch notes: spring release",
        "number": 1,
        "phone": "+1 913 555 1212",
        "price": 19.95,
        "progress": 72,
        "publish-date": "2023-05-09T06:00:00.000Z",
        "publish-time": "21:15:00",
        "rating": 4,
        "read-time": 94530,
        "sku": "LAUNCH-NOTES-SPRING-RELEASE-1",
        "slug": "launch-notes-spring-release",
        "stage": "opt-backlog",
        "summary": "<p>test<br>123<br>testing 1,2,3...</p>",
        "tag-ids": "645acfd07bb0b8858a01bf30 645acfd07bb0b8858a01bf31",
        "topics": "Product, Engineering",
        "updated-on": "2023-05-05T16:05:37.529Z",
        "views": 120,
        "website": "https://www.smartsuite.com"
    })
}

#[test]
fn sample_record_maps_onto_every_webflow_field_type() {
    let item = full_mapping().map_record(&record(), &resolvers()).unwrap();
    assert_eq!(Value::Object(item.field_data.clone()), expected_full());
    assert_eq!(item.slug.as_str(), "launch-notes-spring-release");
    assert!(item.status.is_draft, "status 'backlog' is listed as draft");
    assert!(!item.status.is_archived);
    assert_eq!(
        item.warnings,
        vec![
            Warning {
                field: "authors".into(),
                kind: WarningKind::UnresolvedRecord {
                    id: "645c1dee9f83b887865d99ec".into()
                }
            },
            Warning {
                field: "lead-author".into(),
                kind: WarningKind::ExtraValues { count: 2 }
            },
        ]
    );
}

#[test]
fn every_webflow_field_type_is_in_the_fixture() {
    let collection = collection();
    for ty in suiteflow_mapper::schema::webflow::WebflowFieldType::KNOWN {
        assert!(
            collection.fields.iter().any(|f| &f.field_type == ty),
            "fixture lacks a {ty} field"
        );
    }
    assert!(collection.fields.iter().any(|f| matches!(
        f.field_type,
        suiteflow_mapper::schema::webflow::WebflowFieldType::Unknown(_)
    )));
}

#[test]
fn unresolved_files_and_records_are_warnings_not_failures() {
    let item = full_mapping().map_record(&record(), &NoResolvers).unwrap();
    for field in ["hero", "gallery", "attachment", "authors", "lead-author"] {
        assert!(
            !item.field_data.contains_key(field),
            "{field} should be left out"
        );
        assert!(
            item.warnings.iter().any(|w| w.field == field),
            "{field} should warn"
        );
    }
    assert!(item.warnings.iter().any(|w| w.kind
        == WarningKind::UnresolvedFile {
            handle: "a4d988eCTCKZ62XMqUIj".into()
        }));
    assert_eq!(item.field_data["name"], "Launch notes: spring release");
}

#[test]
fn lookups_list_what_to_resolve() {
    let lookups = full_mapping().lookups(&record());
    assert_eq!(
        lookups.file_handles.into_iter().collect::<Vec<_>>(),
        vec!["a4d988eCTCKZ62XMqUIj".to_string()]
    );
    assert!(lookups.linked_records.contains(&(
        Some("authors-connection".into()),
        "6455294a7715e71aecd9c56a".into()
    )));
    assert!(
        lookups
            .linked_records
            .contains(&(None, "645c1dee9f83b887865d99ec".into()))
    );
}

#[test]
fn empty_values_clear_fields_and_missing_yes_no_is_false() {
    let mut record = record();
    let map = record.as_object_mut().unwrap();
    for key in ["s227a7b29a", "sdd0608960", "sb4c5ca5fc", "se799fd212"] {
        map.remove(key);
    }
    let item = full_mapping().map_record(&record, &resolvers()).unwrap();
    assert_eq!(item.field_data["featured"], json!(false));
    assert_eq!(item.field_data["contact-email"], Value::Null);
    assert_eq!(item.field_data["publish-date"], Value::Null);
    assert_eq!(item.field_data["category"], Value::Null);
    assert_eq!(
        item.field_data["headline"],
        "Launch Notes: Spring Release (, )"
    );
}

#[test]
fn unknown_choices_and_options_warn() {
    let mut record = record();
    record["se799fd212"] = json!("not-a-choice");
    record["status"] = json!({"value": "complete"});
    let mut collection = collection();
    // Webflow's Stage field has no "Complete" option any more.
    let stage = collection
        .fields
        .iter_mut()
        .find(|f| f.slug == "stage")
        .unwrap();
    stage.validations.options.retain(|o| o.name != "Complete");
    let mapping = validate(&full_document(), &table(), &collection).unwrap();
    let item = mapping.map_record(&record, &resolvers()).unwrap();
    assert!(!item.field_data.contains_key("category"));
    assert!(!item.field_data.contains_key("stage"));
    assert!(item.warnings.contains(&Warning {
        field: "category".into(),
        kind: WarningKind::UnknownChoice {
            id: "not-a-choice".into()
        }
    }));
    assert!(item.warnings.contains(&Warning {
        field: "stage".into(),
        kind: WarningKind::UnknownOption {
            value: "Complete".into()
        }
    }));
    assert!(!item.status.is_draft);
}

#[test]
fn a_missing_required_field_fails_the_record() {
    let mut record = record();
    record.as_object_mut().unwrap().remove("s584654fd2");
    match full_mapping().map_record(&record, &resolvers()) {
        Err(MapError::MissingRequired { fields, .. }) => {
            assert_eq!(fields, vec!["price".to_string()])
        }
        other => panic!("expected MissingRequired, got {other:?}"),
    }
    // A price that is not a number fails too, and the warning says why.
    let mut record = crate::fixtures::record();
    record["s584654fd2"] = json!("n/a");
    match full_mapping().map_record(&record, &resolvers()) {
        Err(MapError::MissingRequired { fields, warnings }) => {
            assert_eq!(fields, vec!["price".to_string()]);
            assert!(warnings.iter().any(|w| w.field == "price"
                && w.kind
                    == WarningKind::InvalidNumber {
                        value: "n/a".into()
                    }));
        }
        other => panic!("expected MissingRequired, got {other:?}"),
    }
}

#[test]
fn status_can_archive_by_label() {
    let mut doc = full_document();
    doc.status_behavior.as_mut().unwrap().archived = vec!["in progress".into()];
    let mapping = validate(&doc, &table(), &collection()).unwrap();
    let mut record = record();
    record["status"] = json!({"value": "in_progress"});
    let item = mapping.map_record(&record, &resolvers()).unwrap();
    assert!(item.status.is_archived);
    assert!(!item.status.is_draft);
}

#[test]
fn content_hash_ignores_key_order_and_sees_changes() {
    let item = full_mapping().map_record(&record(), &resolvers()).unwrap();
    let mut reversed = serde_json::Map::new();
    for (k, v) in item.field_data.iter().rev() {
        reversed.insert(k.clone(), v.clone());
    }
    assert_eq!(content_hash(&item.field_data), content_hash(&reversed));
    assert_eq!(content_hash(&item.field_data).len(), 64);
    let mut changed = item.field_data.clone();
    changed.insert("name".into(), json!("Other"));
    assert_ne!(content_hash(&item.field_data), content_hash(&changed));
    let again = full_mapping().map_record(&record(), &resolvers()).unwrap();
    assert_eq!(item.content_hash(), again.content_hash());
    let mut archived = again.clone();
    archived.status.is_archived = true;
    assert_ne!(item.content_hash(), archived.content_hash());
}

#[test]
fn content_hash_is_sha256_of_canonical_json() {
    let data = json!({"b": [1, {"z": true, "a": null}], "a": "é\"x"});
    // `printf '%s' '{"a":"é\"x","b":[1,{"a":null,"z":true}]}' | sha256sum`
    let expected = "bc3a339733499ff7d788e2f64e8af3a4b8ea8ae1d48f9e639dce03a84a3c1f7f";
    assert_eq!(content_hash(data.as_object().unwrap()), expected);
}

/// A push payload (title, sku, price) mapped with each kind of `fieldMap` entry (direct,
/// template, constant), a `slugTemplate`, `deleteBehavior` and `requiredFields`.
#[test]
fn a_push_payload_maps_with_each_kind_of_entry() {
    let payload = json!({
        "event_type": "record_created",
        "record_id": "rec_test_123",
        "data": {"title": "Test Product", "sku": "TEST-001", "price": 99.99}
    });
    let table = table_of(&[
        ("title", "recordtitlefield"),
        ("sku", "textfield"),
        ("price", "currencyfield"),
    ]);
    let collection = collection_of(&[
        ("name", "PlainText", true),
        ("slug", "PlainText", true),
        ("sku", "PlainText", false),
        ("price", "Number", false),
        ("brand", "PlainText", false),
    ]);
    let doc = MappingDocument::from_json(
        r#"{"fieldMap": {
              "name":  {"type": "direct", "source": "title"},
              "price": {"type": "direct", "source": "price", "transform": "round", "args": [1]},
              "sku":   {"type": "template", "template": "{{sku}}-{{title | kebab}}"},
              "brand": {"type": "constant", "value": "Acme"}},
            "slugTemplate": "{{title}}-{{sku}}",
            "deleteBehavior": "archive",
            "requiredFields": ["name", "price"]}"#,
    )
    .unwrap();
    let mapping = validate(&doc, &table, &collection).unwrap();
    let item = mapping
        .map_record_with_id(
            &payload["data"],
            payload["record_id"].as_str(),
            &MapResolvers::default(),
        )
        .unwrap();
    assert_eq!(
        Value::Object(item.field_data),
        json!({"name": "Test Product", "price": 100, "sku": "TEST-001-test-product",
               "brand": "Acme", "slug": "test-product-test-001"})
    );
    assert!(item.warnings.is_empty());

    // Empty title and sku: the slug falls back to the record id, with a warning.
    let item = mapping
        .map_record_with_id(
            &json!({"title": "***", "price": "5"}),
            Some("rec_test_123"),
            &NoResolvers,
        )
        .unwrap();
    assert_eq!(item.slug.as_str(), "rec-test-123");
    assert!(
        item.warnings
            .iter()
            .any(|w| w.kind == WarningKind::SlugFallback)
    );
}

#[test]
fn a_file_over_four_megabytes_is_left_out_with_a_warning_naming_it_and_its_url_is_not_asked() {
    let mut large = record();
    large["see6d6120d"][0]["metadata"]["size"] = json!(5 * 1024 * 1024);
    let item = full_mapping().map_record(&large, &resolvers()).unwrap();
    let hero = item
        .warnings
        .iter()
        .find(|w| w.field == "hero")
        .expect("the hero image warns");
    assert_eq!(
        hero.kind,
        WarningKind::FileTooLarge {
            file: "image (48).png".into(),
            bytes: 5 * 1024 * 1024,
        }
    );
    assert!(hero.to_string().contains("image (48).png"), "{hero}");
    assert!(!item.field_data.contains_key("hero"));
    assert!(
        full_mapping().lookups(&large).file_handles.is_empty(),
        "no URL is asked for a file that will not be sent"
    );
    // At the limit it is sent.
    let mut at_limit = record();
    at_limit["see6d6120d"][0]["metadata"]["size"] = json!(4 * 1024 * 1024);
    let item = full_mapping().map_record(&at_limit, &resolvers()).unwrap();
    assert!(item.field_data.contains_key("hero"), "{item:?}");
}
