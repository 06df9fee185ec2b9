//! Mapping evaluation on arbitrary input. The first byte picks the mode (modulo 3):
//! - 0: the rest is a record (JSON) mapped with the full fixture mapping;
//! - 1: the rest is a mapping document (JSON) validated against the fixtures and, when
//!   valid, run on the sample record;
//! - 2: the rest is text, lines `expression`, `template`, `transforms`, `slug template`, then
//!   optionally a record (JSON, else the sample record): the expression fills fields of every
//!   kind of Webflow type (and a reference), the template `name` and `headline`, the
//!   transforms apply to two of them. This reaches JMESPath, templates and transforms far
//!   faster than whole documents do.
//!
//! Invariants, for every mapped record: the slug is valid kebab-case of at most 100
//! characters and is `fieldData.slug`; only mapped targets are written; each written value has
//! the JSON shape its Webflow field type takes (and a Number respects the field's integer,
//! sign and range rules, an Option is one of its option ids, a DateTime is
//! `YYYY-MM-DDTHH:MM:SS.mmmZ`); mapping is deterministic (same item, same content hash); a
//! refused record names only required fields; the item serialises.
//!
//! Run: `cargo +nightly fuzz run map_record` (from crates/mapper/fuzz).
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use suiteflow_mapper::schema::webflow::WebflowFieldType as W;
use suiteflow_mapper::schema::{smartsuite::Table, webflow::Collection};
use suiteflow_mapper::{
    CompiledMapping, FieldSpec, MapError, MapResolvers, MappingDocument, MappingProblem, Slug,
    validate,
};

struct Fixtures {
    table: Table,
    collection: Collection,
    record: Value,
    mapping: CompiledMapping,
    resolvers: MapResolvers,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let structure: Value =
            serde_json::from_str(include_str!("../../tests/data/sample_structure.json")).unwrap();
        let record: Value =
            serde_json::from_str(include_str!("../../tests/data/sample_record.json")).unwrap();
        let table: Table = serde_json::from_value(structure["table"].clone()).unwrap();
        let collection: Collection =
            serde_json::from_str(include_str!("../../tests/data/webflow_collection.json")).unwrap();
        let doc =
            MappingDocument::from_json(include_str!("../../tests/data/mapping_full.json")).unwrap();
        let mapping = validate(&doc, &table, &collection).unwrap();
        let resolvers = MapResolvers::default()
            .with_file("a4d988eCTCKZ62XMqUIj", "https://files.example/hero.png")
            .with_record(None, "6455294a7715e71aecd9c56a", "wf-1");
        Fixtures {
            table,
            collection,
            record: record["record"].clone(),
            mapping,
            resolvers,
        }
    })
}

fn is_webflow_datetime(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// The value written for a field has the shape its Webflow type takes.
fn check_value(collection: &Collection, slug: &str, value: &Value) {
    if value.is_null() {
        return; // a mapped field whose source is empty clears the Webflow field
    }
    let Some(field) = collection.field(slug) else {
        // `name` and `slug` are implied PlainText when the schema omits them.
        assert!(value.is_string(), "{slug}: {value}");
        return;
    };
    let ok = match &field.field_type {
        W::PlainText | W::RichText | W::Reference => value.is_string(),
        W::Link | W::VideoLink => value.as_str().is_some_and(|s| !s.trim().is_empty()),
        W::Email | W::Phone | W::Color => value
            .as_str()
            .is_some_and(|s| !s.is_empty() && s.trim() == s),
        W::Switch => value.is_boolean(),
        W::DateTime => value.as_str().is_some_and(is_webflow_datetime),
        W::Option => value
            .as_str()
            .is_some_and(|id| field.validations.options.iter().any(|o| o.id == id)),
        W::Number => {
            let n = value.as_f64().unwrap_or(f64::NAN);
            let rules = &field.validations;
            n.is_finite()
                && (!field.is_integer() || n.fract() == 0.0)
                && !(rules.allow_negative == Some(false) && n < 0.0)
                && !(rules.allow_zero == Some(false) && n == 0.0)
                && rules.min_value.is_none_or(|min| n >= min)
                && rules.max_value.is_none_or(|max| n <= max)
        }
        W::MultiReference => value
            .as_array()
            .is_some_and(|ids| ids.iter().all(Value::is_string)),
        W::Image | W::File => value.is_object(),
        W::MultiImage => value
            .as_array()
            .is_some_and(|files| !files.is_empty() && files.iter().all(Value::is_object)),
        W::ExtFileRef | W::User | W::Unknown(_) => true,
    };
    assert!(ok, "{slug} ({}): {value}", field.field_type);
}

fn check_slug(slug: &Slug) {
    let text = slug.as_str();
    assert!(text.len() <= 100);
    assert!(
        !text.is_empty()
            && text.split('-').all(|p| !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())),
        "{text:?}"
    );
    assert_eq!(Slug::new(text).as_ref(), Ok(slug));
}

/// Maps `record` and checks the result.
fn run(mapping: &CompiledMapping, record: &Value, collection: &Collection) {
    let resolvers = &fixtures().resolvers;
    let result = mapping.map_record(record, resolvers);
    assert_eq!(
        result,
        mapping.map_record(record, resolvers),
        "not deterministic"
    );
    let _ = mapping.lookups(record);
    let _ = mapping.map_record_with_id(record, Some("Record Id"), resolvers);
    match result {
        Ok(item) => {
            check_slug(&item.slug);
            let with_suffix = item.slug.with_suffix(u32::MAX);
            check_slug(&with_suffix);
            assert_eq!(
                item.field_data.get("slug").and_then(Value::as_str),
                Some(item.slug.as_str())
            );
            for (key, value) in &item.field_data {
                assert!(
                    key == "slug" || mapping.targets().any(|t| t == key),
                    "unmapped field {key} written"
                );
                check_value(collection, key, value);
            }
            let hash = item.content_hash();
            assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()));
            assert_eq!(hash, item.clone().content_hash());
            assert!(serde_json::to_string(&item).is_ok());
        }
        Err(MapError::MissingRequired { fields, .. }) => {
            assert!(!fields.is_empty());
            let required = mapping.required_fields();
            assert!(fields.iter().all(|f| required.contains(f)), "{fields:?}");
        }
    }
}

fn spec(kind: &str) -> FieldSpec {
    FieldSpec {
        kind: kind.to_string(),
        ..FieldSpec::default()
    }
}

/// Mode 2: a document around one expression, one template and one transform chain.
fn generated(text: &str) {
    let f = fixtures();
    let mut lines = text.splitn(5, '\n');
    let expression = lines.next().unwrap_or_default();
    let template = lines.next().unwrap_or_default();
    let transforms = lines.next().unwrap_or_default();
    let slug_template = lines.next().unwrap_or_default();
    let record = lines
        .next()
        .and_then(|r| serde_json::from_str::<Value>(r).ok());
    let record = record.as_ref().unwrap_or(&f.record);

    let mut field_map = BTreeMap::new();
    let mut price = spec("constant");
    price.value = Some(json!(19.95));
    field_map.insert("price".to_string(), price);
    if expression.trim().is_empty() {
        let mut name = spec("direct");
        name.source = Some("title".to_string());
        field_map.insert("name".to_string(), name);
    } else {
        for target in [
            "topics",
            "views",
            "rating",
            "publish-date",
            "category",
            "featured",
            "website",
            "contact-email",
            "gallery",
            "hero",
            "authors",
            "body",
        ] {
            let mut s = spec("expression");
            s.expression = Some(expression.to_string());
            field_map.insert(target.to_string(), s);
        }
        let mut reference = spec("reference");
        reference.source = Some(expression.to_string());
        field_map.insert("lead-author".to_string(), reference);
    }
    if template.trim().is_empty() {
        field_map
            .entry("name".to_string())
            .or_insert_with(|| spec("direct"))
            .source
            .get_or_insert_with(|| "title".to_string());
    } else {
        for target in ["name", "headline"] {
            let mut s = spec("template");
            s.template = Some(template.to_string());
            field_map.insert(target.to_string(), s);
        }
    }
    if slug_template.trim().is_empty() {
        let mut slug = spec("direct");
        slug.source = Some("s5c0e1a7b3".to_string());
        field_map.insert("slug".to_string(), slug);
    }
    let mut doc = MappingDocument {
        field_map,
        slug_template: (!slug_template.trim().is_empty()).then(|| slug_template.to_string()),
        ..MappingDocument::default()
    };
    if let Some(mapping) = validate_pruned(&mut doc) {
        run(&mapping, record, &f.collection);
    }
    if !transforms.trim().is_empty() {
        for target in ["topics", "views", "headline"] {
            if let Some(s) = doc.field_map.get_mut(target) {
                s.transform = Some(transforms.to_string());
            }
        }
        if let Some(mapping) = validate_pruned(&mut doc) {
            run(&mapping, record, &f.collection);
        }
    }
}

/// Validates `doc`; when the only problems are targets the expression's field type cannot
/// fill, drops those targets and validates again.
fn validate_pruned(doc: &mut MappingDocument) -> Option<CompiledMapping> {
    let f = fixtures();
    let problems = match validate(doc, &f.table, &f.collection) {
        Ok(mapping) => return Some(mapping),
        Err(problems) => problems,
    };
    let mut incompatible = Vec::new();
    for problem in &problems {
        match problem {
            MappingProblem::TypeIncompatible { at, .. } => {
                incompatible.push(at.strip_prefix("fieldMap.")?.to_string());
            }
            _ => return None,
        }
    }
    for target in incompatible {
        doc.field_map.remove(&target);
    }
    validate(doc, &f.table, &f.collection).ok()
}

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    let f = fixtures();
    match mode % 3 {
        0 => {
            if let Ok(record) = serde_json::from_slice::<Value>(rest) {
                run(&f.mapping, &record, &f.collection);
            }
        }
        1 => {
            if let Ok(text) = std::str::from_utf8(rest)
                && let Ok(doc) = MappingDocument::from_json(text)
                && let Ok(mapping) = validate(&doc, &f.table, &f.collection)
            {
                run(&mapping, &f.record, &f.collection);
            }
        }
        _ => {
            if let Ok(text) = std::str::from_utf8(rest) {
                generated(text);
            }
        }
    }
});
