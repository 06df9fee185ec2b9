//! `transliterateSlugs`: the document key, and the slugs a mapping makes with it on and off.

use serde_json::{Value, json};
use suiteflow_mapper::{
    CompiledMapping, DocumentFormat, MappingDocument, NoResolvers, WarningKind, validate,
};

use crate::fixtures::*;

fn mapping(extra: &str) -> CompiledMapping {
    let table = table_of(&[("title", "recordtitlefield"), ("sku", "textfield")]);
    let collection = collection_of(&[("name", "PlainText", true), ("slug", "PlainText", true)]);
    let doc = MappingDocument::from_json(&format!(
        r#"{{"fieldMap": {{"name": {{"type": "direct", "source": "title"}}}},
             "slugTemplate": "{{{{title}}}}"{extra}}}"#
    ))
    .unwrap();
    validate(&doc, &table, &collection).unwrap()
}

fn slug_and_warnings(mapping: &CompiledMapping, title: &str) -> (String, Vec<WarningKind>) {
    let item = mapping
        .map_record(
            &json!({"id": "6493681eba09b400816eb754", "title": title}),
            &NoResolvers,
        )
        .unwrap();
    assert_eq!(
        item.field_data.get("slug").and_then(Value::as_str),
        Some(item.slug.as_str())
    );
    (
        item.slug.into_string(),
        item.warnings.into_iter().map(|w| w.kind).collect(),
    )
}

#[test]
fn the_key_reads_in_every_format_and_absent_is_none() {
    let doc = MappingDocument::from_json(r#"{"fieldMap": {}}"#).unwrap();
    assert_eq!(doc.transliterate_slugs, None);
    assert!(
        !doc.to_json()
            .as_object()
            .unwrap()
            .contains_key("transliterateSlugs")
    );
    let doc =
        MappingDocument::from_json(r#"{"fieldMap": {}, "transliterateSlugs": null}"#).unwrap();
    assert_eq!(doc.transliterate_slugs, None);
    for (text, format) in [
        (
            r#"{"fieldMap": {}, "transliterateSlugs": true}"#,
            DocumentFormat::Json,
        ),
        (
            "fieldMap: {}\ntransliterateSlugs: true\n",
            DocumentFormat::Yaml,
        ),
        (
            "transliterateSlugs = true\n[fieldMap]\n",
            DocumentFormat::Toml,
        ),
    ] {
        let doc = MappingDocument::parse(text, format).unwrap();
        assert_eq!(doc.transliterate_slugs, Some(true), "{text}");
        assert_eq!(doc.to_json()["transliterateSlugs"], json!(true));
    }
    let doc =
        MappingDocument::from_json(r#"{"fieldMap": {}, "transliterateSlugs": false}"#).unwrap();
    assert_eq!(doc.transliterate_slugs, Some(false));
    assert_eq!(doc.to_json()["transliterateSlugs"], json!(false));
}

#[test]
fn a_value_that_is_not_a_boolean_is_refused_naming_the_key() {
    for (text, format) in [
        (
            r#"{"fieldMap": {}, "transliterateSlugs": "yes"}"#,
            DocumentFormat::Json,
        ),
        (
            r#"{"fieldMap": {}, "transliterateSlugs": 1}"#,
            DocumentFormat::Json,
        ),
        (
            "fieldMap: {}\ntransliterateSlugs: [true]\n",
            DocumentFormat::Yaml,
        ),
        (
            "transliterateSlugs = \"on\"\n[fieldMap]\n",
            DocumentFormat::Toml,
        ),
    ] {
        let error = MappingDocument::parse(text, format)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("transliterateSlugs is true or false"),
            "{text}: {error}"
        );
    }
}

#[test]
fn absent_compiles_off_and_the_compiled_mapping_says_which() {
    assert!(!mapping("").transliterates_slugs());
    assert!(!mapping(r#", "transliterateSlugs": false"#).transliterates_slugs());
    assert!(mapping(r#", "transliterateSlugs": true"#).transliterates_slugs());
}

#[test]
fn with_the_option_on_other_scripts_make_latin_slugs() {
    let on = mapping(r#", "transliterateSlugs": true"#);
    for (title, slug) in [
        ("Ёлка", "iolka"),
        ("Москва 2024", "moskva-2024"),
        ("Αθήνα", "athena"),
        ("北京", "bei-jing"),
        ("日本語", "ri-ben-yu"),
        (
            "Spring Release: Ёлка & 北京",
            "spring-release-iolka-bei-jing",
        ),
        ("Crème brûlée", "creme-brulee"),
    ] {
        assert_eq!(
            slug_and_warnings(&on, title),
            (slug.to_string(), vec![]),
            "{title}"
        );
    }
    // Nothing to spell: the record id, as before.
    assert_eq!(
        slug_and_warnings(&on, "🚀 !!!"),
        (
            "6493681eba09b400816eb754".to_string(),
            vec![WarningKind::SlugFallback]
        )
    );
}

#[test]
fn with_the_option_off_or_absent_other_scripts_fall_back_to_the_record_id_as_before() {
    for off in [mapping(""), mapping(r#", "transliterateSlugs": false"#)] {
        for title in ["Ёлка", "Αθήνα", "北京", "日本語"] {
            let (slug, warnings) = slug_and_warnings(&off, title);
            assert_eq!(slug, "6493681eba09b400816eb754", "{title}");
            assert_eq!(
                warnings,
                vec![WarningKind::SlugNotTransliterated {
                    text: title.to_string()
                }],
                "{title}"
            );
        }
        // Latin letters among them are kept, the rest dropped, exactly as before.
        assert_eq!(
            slug_and_warnings(&off, "Spring Release: Ёлка & 北京"),
            ("spring-release".to_string(), vec![])
        );
        assert_eq!(
            slug_and_warnings(&off, "Crème brûlée"),
            ("creme-brulee".to_string(), vec![])
        );
        assert_eq!(
            slug_and_warnings(&off, "🚀 !!!"),
            (
                "6493681eba09b400816eb754".to_string(),
                vec![WarningKind::SlugFallback]
            )
        );
    }
}

#[test]
fn without_a_slug_template_the_mapped_name_is_transliterated() {
    let table = table_of(&[("title", "recordtitlefield")]);
    let collection = collection_of(&[("name", "PlainText", true), ("slug", "PlainText", true)]);
    let doc = |flag: &str| {
        MappingDocument::from_json(&format!(
            r#"{{"fieldMap": {{"name": {{"type": "direct", "source": "title"}},
                              "slug": {{"type": "direct", "source": "title"}}}}{flag}}}"#
        ))
        .unwrap()
    };
    let record = json!({"id": "rec_1", "title": "Ελληνικά νέα"});
    let on = validate(&doc(r#", "transliterateSlugs": true"#), &table, &collection).unwrap();
    assert_eq!(
        on.map_record(&record, &NoResolvers).unwrap().slug.as_str(),
        "ellenika-nea"
    );
    let off = validate(&doc(""), &table, &collection).unwrap();
    assert_eq!(
        off.map_record(&record, &NoResolvers).unwrap().slug.as_str(),
        "rec-1"
    );
}
