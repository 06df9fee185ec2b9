//! Validation: every problem kind, all reported at once.

use suiteflow_mapper::{DeleteBehavior, MappingDocument, MappingProblem, MatchOn, validate};

use crate::fixtures::*;

fn problems(doc: &str) -> Vec<MappingProblem> {
    let doc = MappingDocument::from_json(doc).unwrap();
    match validate(&doc, &table(), &collection()) {
        Ok(_) => panic!("expected problems"),
        Err(p) => p,
    }
}

/// A valid base with `name`, `price` (required in the fixture) and a slug template.
fn with(extra: &str) -> String {
    format!(
        r#"{{"fieldMap": {{"name": {{"type": "direct", "source": "title"}},
                           "price": {{"type": "direct", "source": "s584654fd2"}}{extra}}},
            "slugTemplate": "{{{{title}}}}"}}"#
    )
}

#[test]
fn a_valid_mapping_compiles() {
    let doc = MappingDocument::from_json(&with("")).unwrap();
    let mapping = validate(&doc, &table(), &collection()).unwrap();
    assert_eq!(mapping.delete_behavior(), DeleteBehavior::Archive);
    assert!(mapping.required_fields().contains(&"price".to_string()));
    assert_eq!(mapping.targets().collect::<Vec<_>>(), vec!["name", "price"]);
}

#[test]
fn the_full_fixture_mapping_is_valid() {
    let _ = full_mapping();
}

#[test]
fn unknown_type() {
    let p = problems(&with(r#", "sku": {"type": "jsonata", "expression": "x"}"#));
    assert_eq!(
        p,
        vec![MappingProblem::UnknownType {
            at: "fieldMap.sku".into(),
            kind: "jsonata".into()
        }]
    );
}

#[test]
fn missing_attribute() {
    let p = problems(&with(
        r#", "sku": {"type": "direct"}, "brand": {"type": "constant"}, "headline": {"type": "template"}"#,
    ));
    let attrs: Vec<_> = p
        .iter()
        .map(|p| match p {
            MappingProblem::MissingAttribute { at, attribute, .. } => format!("{at}:{attribute}"),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        attrs,
        vec![
            "fieldMap.brand:value",
            "fieldMap.headline:template",
            "fieldMap.sku:source"
        ]
    );
}

#[test]
fn unknown_transform_in_field_and_template() {
    let p = problems(&with(
        r#", "sku": {"type": "direct", "source": "title", "transform": "shout"},
             "headline": {"type": "template", "template": "{{title | whisper}}"}"#,
    ));
    assert_eq!(
        p,
        vec![
            MappingProblem::UnknownTransform {
                at: "fieldMap.headline".into(),
                name: "whisper".into()
            },
            MappingProblem::UnknownTransform {
                at: "fieldMap.sku".into(),
                name: "shout".into()
            },
        ]
    );
}

#[test]
fn invalid_transform_arguments() {
    let p = problems(&with(
        r#", "sku": {"type": "direct", "source": "title", "transform": "truncate", "args": [-1]},
             "headline": {"type": "template", "template": "{{sb4c5ca5fc | formatDate('[nonsense]')}}"},
             "views": {"type": "direct", "source": "s6878322bd", "transform": "floor", "args": [2]}"#,
    ));
    assert_eq!(p.len(), 3, "{p:#?}");
    assert!(
        p.iter()
            .all(|p| matches!(p, MappingProblem::InvalidTransformArgs { .. }))
    );
}

#[test]
fn jmespath_that_does_not_compile() {
    let p = problems(&with(
        r#", "sku": {"type": "expression", "expression": "join(', ', tags[*"},
             "headline": {"type": "template", "template": "x {{ title[?] }}"}"#,
    ));
    assert_eq!(p.len(), 2, "{p:#?}");
    assert!(
        p.iter()
            .all(|p| matches!(p, MappingProblem::InvalidExpression { .. }))
    );
}

#[test]
fn slices_with_a_step_the_evaluator_would_overflow_on() {
    // The jmespath crate walks a slice with an i32 index, so `[1::2147483647]` overflowed (a
    // panic) on any array of two or more elements (fuzz corpus: map_record, slice-step).
    let p = problems(&with(
        r#", "sku": {"type": "expression", "expression": "s710a06b7f[1::2147483647]"},
             "headline": {"type": "template", "template": "{{ title[::-1000001] }}"}"#,
    ));
    assert_eq!(p.len(), 2, "{p:#?}");
    assert!(p.iter().all(|p| matches!(
        p,
        MappingProblem::InvalidExpression { reason, .. } if reason.contains("slice step")
    )));
    let doc = MappingDocument::from_json(&with(
        r#", "sku": {"type": "expression", "expression": "join(',', s710a06b7f[1::1000000])"}"#,
    ))
    .unwrap();
    let item = validate(&doc, &table(), &collection())
        .unwrap()
        .map_record(
            &serde_json::json!({"title": "t", "s584654fd2": 1, "s710a06b7f": ["a", "b", "c"]}),
            &suiteflow_mapper::NoResolvers,
        )
        .unwrap();
    assert_eq!(item.field_data["sku"], "b");
}

#[test]
fn malformed_templates() {
    for template in ["{{title", "title}} x", "{{ }}", "{{title | }}"] {
        let p = problems(&with(&format!(
            r#", "sku": {{"type": "template", "template": {}}}"#,
            serde_json::to_string(template).unwrap()
        )));
        assert!(
            matches!(p.as_slice(), [MappingProblem::MalformedTemplate { at, .. }] if at == "fieldMap.sku"),
            "{template:?}: {p:#?}"
        );
    }
}

#[test]
fn target_field_missing_from_the_collection() {
    let p = problems(&with(r#", "nope": {"type": "constant", "value": 1}"#));
    assert_eq!(
        p,
        vec![MappingProblem::UnknownTargetField {
            at: "fieldMap.nope".into(),
            field: "nope".into()
        }]
    );
}

#[test]
fn target_field_not_editable() {
    let p = problems(&with(
        r#", "created-by": {"type": "constant", "value": "x"}"#,
    ));
    assert!(
        matches!(p.as_slice(), [MappingProblem::TargetNotEditable { field, .. }] if field == "created-by")
    );
}

#[test]
fn source_field_missing_from_the_table() {
    let p = problems(&with(
        r#", "sku": {"type": "direct", "source": "s_typo"}, "views": {"type": "direct", "source": "id"}"#,
    ));
    assert_eq!(
        p,
        vec![MappingProblem::UnknownSourceField {
            at: "fieldMap.sku".into(),
            slug: "s_typo".into()
        }]
    );
}

#[test]
fn type_incompatibility() {
    let p = problems(&with(
        r#", "featured": {"type": "direct", "source": "title"},
             "views": {"type": "direct", "source": "s227a7b29a"},
             "sku": {"type": "reference", "source": "s570c86b38"}"#,
    ));
    let got: Vec<_> = p
        .iter()
        .map(|p| match p {
            MappingProblem::TypeIncompatible {
                at,
                source_type,
                target_type,
                ..
            } => format!("{at}:{source_type}->{target_type}"),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        vec![
            "fieldMap.featured:recordtitlefield->Switch",
            "fieldMap.sku:reference mapping->PlainText",
            "fieldMap.views:yesnofield->Number",
        ]
    );
}

#[test]
fn required_webflow_fields_left_unmapped() {
    // No name, no slug (no slugTemplate), no price (isRequired in the fixture).
    let p = problems(r#"{"fieldMap": {"sku": {"type": "direct", "source": "title"}}}"#);
    let fields: Vec<_> = p
        .iter()
        .map(|p| match p {
            MappingProblem::UnmappedRequiredField { field, .. } => field.as_str(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(fields, vec!["name", "slug", "price"]);
}

#[test]
fn slug_counts_as_mapped_through_the_field_map_too() {
    let doc = MappingDocument::from_json(
        r#"{"fieldMap": {"name": {"type": "direct", "source": "title"},
                          "slug": {"type": "direct", "source": "s5c0e1a7b3"},
                          "price": {"type": "constant", "value": 1}}}"#,
    )
    .unwrap();
    let mapping = validate(&doc, &table(), &collection()).unwrap();
    let item = mapping.map_record(&record(), &resolvers()).unwrap();
    assert_eq!(item.slug.as_str(), "launch-notes-spring-release");
}

#[test]
fn required_fields_entries_must_exist_and_be_mapped() {
    let doc = with("").replace(
        "\"slugTemplate\"",
        r#""requiredFields": ["summary", "ghost"], "slugTemplate""#,
    );
    let p = problems(&doc);
    assert_eq!(
        p,
        vec![
            MappingProblem::UnmappedRequiredField {
                at: "requiredFields".into(),
                field: "summary".into()
            },
            MappingProblem::UnknownTargetField {
                at: "requiredFields".into(),
                field: "ghost".into()
            },
        ]
    );
}

#[test]
fn bad_delete_behavior_and_status_source() {
    let doc = with("").replace(
        "\"slugTemplate\"",
        r#""deleteBehavior": "shred", "statusBehavior": {"source": "status[", "draft": []}, "slugTemplate""#,
    );
    let p = problems(&doc);
    assert_eq!(p.len(), 2, "{p:#?}");
    assert!(
        p.iter().any(
            |p| matches!(p, MappingProblem::InvalidDeleteBehavior { value } if value == "shred")
        )
    );
    assert!(p.iter().any(|p| matches!(p, MappingProblem::InvalidExpression { at, .. } if at == "statusBehavior.source")));
}

#[test]
fn every_problem_is_reported_at_once() {
    let p = problems(
        r#"{"fieldMap": {
              "a-missing-target": {"type": "constant", "value": 1},
              "sku": {"type": "magic"},
              "headline": {"type": "template", "template": "{{title"},
              "summary": {"type": "expression", "expression": "]["},
              "featured": {"type": "direct", "source": "title", "transform": "nope"}},
            "deleteBehavior": "later"}"#,
    );
    let kinds: Vec<&str> = p
        .iter()
        .map(|p| match p {
            MappingProblem::UnknownTargetField { .. } => "target",
            MappingProblem::UnknownType { .. } => "type",
            MappingProblem::MalformedTemplate { .. } => "template",
            MappingProblem::InvalidExpression { .. } => "expression",
            MappingProblem::UnknownTransform { .. } => "transform",
            MappingProblem::TypeIncompatible { .. } => "incompatible",
            MappingProblem::InvalidDeleteBehavior { .. } => "delete",
            MappingProblem::UnmappedRequiredField { .. } => "required",
            _ => "other",
        })
        .collect();
    for kind in [
        "target",
        "type",
        "template",
        "expression",
        "transform",
        "incompatible",
        "delete",
        "required",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {p:#?}");
    }
    // Display names the place.
    assert!(p.iter().any(|p| {
        p.to_string()
            .starts_with("fieldMap.sku: unknown mapping type 'magic'")
    }));
}

/// The valid base with a `match`.
fn with_match(rule: &str) -> String {
    let base = with("");
    format!("{}, \"match\": {rule}}}", &base[..base.len() - 1])
}

#[test]
fn match_on_a_field_needs_a_text_or_number_field_that_exists_and_a_source() {
    let doc = MappingDocument::from_json(&with_match(
        r#"{"on": "field", "webflowField": "sku", "source": "id"}"#,
    ))
    .unwrap();
    let mapping = validate(&doc, &table(), &collection()).unwrap();
    assert_eq!(mapping.match_on(), MatchOn::Field("sku"));
    assert_eq!(
        mapping.match_key(&serde_json::json!({"title": "x"}), Some("rec_1")),
        Some("rec_1".into()),
        "a push's data without `id` matches on the record id it was sent for"
    );

    let p = problems(&with_match(
        r#"{"on": "field", "webflowField": "nope", "source": "id"}"#,
    ));
    assert!(
        matches!(&p[..], [MappingProblem::UnknownTargetField { at, field }] if at == "match.webflowField" && field == "nope"),
        "{p:?}"
    );
    let p = problems(&with_match(
        r#"{"on": "field", "webflowField": "category", "source": "id"}"#,
    ));
    assert!(
        matches!(&p[..], [MappingProblem::MatchFieldType { field, field_type, .. }] if field == "category" && field_type == "Option"),
        "{p:?}"
    );
    assert!(p[0].to_string().contains("category"), "{}", p[0]);
    let p = problems(&with_match(
        r#"{"on": "field", "webflowField": "sku", "source": "[["}"#,
    ));
    assert!(
        matches!(&p[..], [MappingProblem::InvalidExpression { at, .. }] if at == "match.source"),
        "{p:?}"
    );
    for empty in ["\"\"", "\"   \""] {
        let p = problems(&with_match(&format!(
            r#"{{"on": "field", "webflowField": "sku", "source": {empty}}}"#
        )));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].to_string().contains("match") && p[0].to_string().contains("source"),
            "an empty source names where: {}",
            p[0]
        );
    }
}

#[test]
fn match_defaults_to_slug_and_can_be_turned_off() {
    let by_default = validate(
        &MappingDocument::from_json(&with("")).unwrap(),
        &table(),
        &collection(),
    )
    .unwrap();
    assert_eq!(by_default.match_on(), MatchOn::Slug);
    let none = MappingDocument::from_json(&with_match(r#"{"on": "none"}"#)).unwrap();
    assert_eq!(
        validate(&none, &table(), &collection()).unwrap().match_on(),
        MatchOn::None
    );
    assert!(
        MappingDocument::from_json(&with_match(r#"{"on": "title"}"#)).is_err(),
        "an unknown rule does not parse"
    );
}

#[test]
fn a_date_pattern_that_would_print_itself_is_refused_naming_the_field() {
    let p = problems(&with(
        r#", "headline": {"type": "template", "template": "{{sb4c5ca5fc | formatDate('YYYY-MM-DD')}}"}"#,
    ));
    assert_eq!(p.len(), 1, "{p:#?}");
    let text = p[0].to_string();
    assert!(text.contains("headline"), "names the field: {text}");
    assert!(text.contains("YYYY"), "{text}");
    // The same date in date-fns letters is accepted.
    let doc = MappingDocument::from_json(&with(
        r#", "headline": {"type": "template", "template": "{{sb4c5ca5fc | formatDate('yyyy-MM-dd')}}"}"#,
    ))
    .unwrap();
    assert!(validate(&doc, &table(), &collection()).is_ok());
}
