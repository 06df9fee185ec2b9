//! Property tests: arbitrary JSON never panics the mapper, and slugs are always valid.

use proptest::prelude::*;
use serde_json::{Map, Value};
use suiteflow_mapper::{MAX_SLUG_LEN, NoResolvers, Slug};

use crate::fixtures::*;

fn is_slug(s: &str) -> bool {
    // ^[a-z0-9]+(-[a-z0-9]+)*$
    !s.is_empty()
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,40}".prop_map(Value::String),
        "[a-z0-9 :.TZ-]{0,30}".prop_map(Value::String),
        Just(Value::String("2023-05-09T06:00:00Z".into())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("date".to_string()),
                    Just("html".to_string()),
                    Just("value".to_string()),
                    Just("handle".to_string()),
                    Just("from_date".to_string()),
                    Just("to_date".to_string()),
                    Just("first_name".to_string()),
                    Just("location_city".to_string()),
                    Just("items".to_string()),
                    "[a-z_]{1,8}",
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// The sample record's keys with arbitrary values on some of them.
fn arb_record() -> impl Strategy<Value = Value> {
    let keys: Vec<String> = record().as_object().unwrap().keys().cloned().collect();
    prop::collection::vec((prop::sample::select(keys), arb_json()), 0..20).prop_map(|pairs| {
        let mut base = record();
        let map = base.as_object_mut().unwrap();
        for (k, v) in pairs {
            map.insert(k, v);
        }
        base
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics(value in arb_json()) {
        let mapping = full_mapping();
        if let Ok(item) = mapping.map_record(&value, &resolvers()) {
            prop_assert!(is_slug(item.slug.as_str()));
            prop_assert!(item.slug.as_str().len() <= MAX_SLUG_LEN);
            prop_assert_eq!(item.field_data.get("slug").and_then(Value::as_str), Some(item.slug.as_str()));
        }
        let _ = mapping.lookups(&value);
    }

    #[test]
    fn records_with_arbitrary_field_values_never_panic(value in arb_record()) {
        let mapping = full_mapping();
        match mapping.map_record(&value, &resolvers()) {
            Ok(item) => {
                prop_assert!(is_slug(item.slug.as_str()), "{}", item.slug);
                prop_assert!(item.slug.as_str().len() <= MAX_SLUG_LEN);
            }
            Err(suiteflow_mapper::MapError::MissingRequired { fields, .. }) => prop_assert!(!fields.is_empty()),
        }
        let _ = mapping.map_record(&value, &NoResolvers);
    }

    #[test]
    fn slugs_from_any_text_are_valid(text in ".{0,300}", id in "[a-zA-Z0-9_]{0,30}") {
        if let Some(slug) = Slug::from_text(&text) {
            prop_assert!(is_slug(slug.as_str()), "{:?} -> {}", text, slug);
            prop_assert!(slug.as_str().len() <= MAX_SLUG_LEN);
            for n in 1..=9 {
                let s = slug.with_suffix(n);
                prop_assert!(is_slug(s.as_str()) && s.as_str().len() <= MAX_SLUG_LEN, "{}", s);
            }
        }
        let generated = Slug::generate(&text, Some(&id));
        prop_assert!(is_slug(generated.as_str()) && generated.as_str().len() <= MAX_SLUG_LEN);
    }
}

#[test]
fn the_slug_checker_can_fail() {
    for bad in ["", "-a", "a-", "a--b", "A", "a_b"] {
        assert!(!is_slug(bad), "{bad}");
    }
    assert!(is_slug("a-1-b"));
}
