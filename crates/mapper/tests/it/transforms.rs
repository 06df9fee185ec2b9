//! Transforms, alone and inside templates.

use serde_json::{Value, json};
use suiteflow_mapper::{
    ApplyError, ApplyProblem, MappingDocument, NoResolvers, Transform, TransformError, WarningKind,
    validate,
};

use crate::fixtures::*;

fn apply(name: &str, args: &[Value], input: Value) -> Value {
    Transform::new(name, args).unwrap().apply(input).unwrap()
}

#[test]
fn case_transforms() {
    let s = || json!("hello big World");
    assert_eq!(apply("uppercase", &[], s()), "HELLO BIG WORLD");
    assert_eq!(apply("lowercase", &[], s()), "hello big world");
    assert_eq!(
        apply("title", &[], json!("launch notes: sPRING release")),
        "Launch Notes: Spring Release"
    );
    assert_eq!(apply("camel", &[], s()), "helloBigWorld");
    assert_eq!(apply("pascal", &[], s()), "HelloBigWorld");
    assert_eq!(apply("snake", &[], s()), "hello_big_world");
    assert_eq!(apply("kebab", &[], s()), "hello-big-world");
    assert_eq!(
        apply("snake", &[], json!(" two   spaces, and: punctuation ")),
        "two_spaces_and_punctuation"
    );
    assert_eq!(
        apply("KEBAB", &[], json!("Test Product")),
        "test-product",
        "names are case-insensitive"
    );
}

#[test]
fn string_transforms() {
    assert_eq!(apply("trim", &[], json!("  x y  ")), "x y");
    assert_eq!(apply("truncate", &[json!(3)], json!("héllo")), "hél");
    assert_eq!(
        apply("truncate", &[], json!("a".repeat(150))),
        "a".repeat(100)
    );
    assert_eq!(
        apply("uppercase", &[], json!(["a", "b"])),
        json!(["A", "B"])
    );
    assert_eq!(apply("uppercase", &[], json!(12)), "12");
    assert_eq!(apply("uppercase", &[], Value::Null), Value::Null);
}

#[test]
fn numeric_transforms() {
    assert_eq!(apply("round", &[json!(2)], json!("19.956")), json!(19.96));
    // Binary floating point, like JavaScript's Math.round: 1.005 is 1.00499…

    assert_eq!(apply("round", &[json!(2)], json!(1.005)), json!(1));
    assert_eq!(apply("round", &[], json!(2.5)), json!(3));
    assert_eq!(apply("round", &[json!(-2)], json!(1234)), json!(1200));
    assert_eq!(apply("floor", &[], json!("12.9")), json!(12));
    assert_eq!(apply("ceil", &[], json!(12.1)), json!(13));
    assert_eq!(apply("ceil", &[], json!(-12.9)), json!(-12));
    let error = Transform::new("round", &[])
        .unwrap()
        .apply(json!("abc"))
        .unwrap_err();
    assert!(
        matches!(&error.problem, ApplyProblem::NotANumber(v) if v.contains("abc")),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "round: needs a number, got abc");
    assert!(matches!(
        Transform::new("floor", &[]).unwrap().apply(json!(true)),
        Err(ApplyError {
            transform: "floor",
            problem: ApplyProblem::NotANumber(_)
        })
    ));
}

#[test]
fn format_date() {
    let fmt = |f: &str, v: Value| apply("formatDate", &[json!(f)], v);
    assert_eq!(
        fmt("[day].[month].[year]", json!("2023-05-09T06:00:00Z")),
        "09.05.2023"
    );
    assert_eq!(
        fmt(
            "[year]-[month]-[day] [hour]:[minute]",
            json!({"date": "2023-05-09T06:30:00Z", "include_time": true})
        ),
        "2023-05-09 06:30"
    );
    assert_eq!(apply("formatDate", &[], json!("2023-05-12")), "2023-05-12");
    // Nested descriptions and escaped brackets still parse.
    assert_eq!(
        fmt(r"\[[year]\] [optional [[month]]]", json!("2023-05-09")),
        "[2023] 05"
    );
    assert_eq!(
        fmt(
            "[month repr:long] [day padding:none]",
            json!({"by": "x", "on": "2023-05-05T16:05:37.529000Z"})
        ),
        "May 5"
    );
    assert!(matches!(
        Transform::new("formatDate", &[])
            .unwrap()
            .apply(json!("yesterday")),
        Err(ApplyError {
            transform: "formatDate",
            problem: ApplyProblem::NotADate(_)
        })
    ));
}

#[test]
fn format_date_with_the_patterns_people_write() {
    let fmt = |f: &str, v: Value| apply("formatDate", &[json!(f)], v);
    let at = json!("2023-05-09T06:30:05Z");
    assert_eq!(fmt("yyyy-MM-dd", at.clone()), "2023-05-09");
    assert_eq!(fmt("dd.MM.yy HH:mm:ss", at.clone()), "09.05.23 06:30:05");
    assert_eq!(fmt("EEE, MMM d", at.clone()), "Tue, May 9");
    assert_eq!(fmt("EEEE d MMMM yyyy", at.clone()), "Tuesday 9 May 2023");
    assert_eq!(fmt("h:mm a", json!("2023-05-09T18:07:00Z")), "6:07 PM");
    // Quoted text is literal, and '' is a quote.
    assert_eq!(fmt("'week of' MMM d", at.clone()), "week of May 9");
    assert_eq!(fmt("yyyy'' MM", at.clone()), "2023' 05");
    assert_eq!(fmt("d/M/yyyy", json!("2023-05-09")), "9/5/2023");
}

#[test]
fn a_date_pattern_that_would_print_itself_is_refused() {
    for pattern in ["YYYY-MM-DD", "yyyy-MM-dd 'at", "--", "today", "yyyyy"] {
        let err = Transform::new("formatDate", &[json!(pattern)])
            .err()
            .unwrap_or_else(|| panic!("{pattern:?} was accepted"));
        let TransformError::InvalidArgs { transform, reason } = err else {
            panic!("{pattern:?}: {err:?}");
        };
        assert_eq!(transform, "formatDate");
        assert!(reason.contains(pattern), "{pattern:?}: {reason}");
    }
    let TransformError::InvalidArgs { reason, .. } =
        Transform::new("formatDate", &[json!("YYYY-MM-DD")]).unwrap_err()
    else {
        unreachable!("refused as an argument")
    };
    assert!(reason.contains("\"YYYY\""), "names the letters: {reason}");
}

#[test]
fn bad_names_and_arguments() {
    assert_eq!(
        Transform::new("shout", &[]).unwrap_err(),
        TransformError::Unknown("shout".into())
    );
    for (name, args) in [
        ("truncate", vec![json!(-1)]),
        ("truncate", vec![json!("x")]),
        ("round", vec![json!(1.5)]),
        ("round", vec![json!(99)]),
        ("uppercase", vec![json!(1)]),
        ("formatDate", vec![json!(5)]),
        ("formatDate", vec![json!("[year")]),
        // Found by the `map_record` fuzz target: panicked in time's parser (debug builds).
        ("formatDate", vec![json!("[a[b[c]")]),
        ("formatDate", vec![json!("[day[ye[*]ar]].[month]")]),
        ("formatDate", vec![json!(r"[a[\")]),
        ("formatDate", vec![json!(r"[a [] [\")]),
        ("round", vec![json!(1), json!(2)]),
    ] {
        assert!(
            matches!(
                Transform::new(name, &args),
                Err(TransformError::InvalidArgs { .. })
            ),
            "{name}({args:?})"
        );
    }
}

fn map_one(spec: &str, record: Value) -> suiteflow_mapper::MappedItem {
    let doc = MappingDocument::from_json(&format!(
        r#"{{"fieldMap": {{"name": {{"type": "constant", "value": "n"}},
                           "price": {{"type": "constant", "value": 1}},
                           "sku": {spec}}},
            "slugTemplate": "x"}}"#
    ))
    .unwrap();
    validate(&doc, &table(), &collection())
        .unwrap_or_else(|p| panic!("{p:#?}"))
        .map_record(&record, &NoResolvers)
        .unwrap()
}

#[test]
fn transform_chains_and_call_syntax_in_field_entries() {
    let item = map_one(
        r#"{"type": "direct", "source": "title", "transform": "trim | truncate(6) | uppercase"}"#,
        json!({"title": "  launch notes"}),
    );
    assert_eq!(item.field_data["sku"], "LAUNCH");
}

#[test]
fn templates_with_transforms_and_type_aware_values() {
    let mut record = record();
    record["title"] = json!("  Spring   Release ");
    let item = map_one(
        r#"{"type": "template",
            "template": "{{title | trim | kebab}}/{{se799fd212 | lowercase}}/{{s584654fd2 | round(0)}}/{{status.value}}/{{deleted_by}}/{{s710a06b7f}}/{{ s9a8b7c6d5 || title }}"}"#,
        record,
    );
    assert_eq!(
        item.field_data["sku"],
        "spring-release/news/20/backlog//Product, Engineering/9.0"
    );
}

#[test]
fn a_failing_transform_is_a_warning() {
    let item = map_one(
        r#"{"type": "direct", "source": "title", "transform": "round"}"#,
        json!({"title": "not a number"}),
    );
    assert!(!item.field_data.contains_key("sku"));
    assert!(
        matches!(&item.warnings[..], [w] if w.field == "sku" && matches!(w.kind, WarningKind::Transform { .. }))
    );
}
