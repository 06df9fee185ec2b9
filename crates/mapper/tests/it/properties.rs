//! Property tests. Records built to map with the full fixture mapping (arbitrary values where
//! the mapping tolerates them) always map, and the item says what the record held; arbitrary
//! JSON never panics the mapper and fails only for the required fields it lacks; slugs from
//! any text are always valid, with transliteration on or off, and text in other scripts gives
//! a slug only with it on.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use suiteflow_mapper::{
    CompiledMapping, MAX_SLUG_LEN, MapError, MapResolvers, MappingDocument, NoResolvers, Slug,
    validate,
};

use crate::fixtures::*;

/// The full fixture mapping, as stored (`transliterateSlugs` absent: off).
static MAPPING: LazyLock<CompiledMapping> = LazyLock::new(full_mapping);
/// The same mapping with `transliterateSlugs: true`.
static TRANSLITERATING: LazyLock<CompiledMapping> = LazyLock::new(|| {
    let doc = MappingDocument {
        transliterate_slugs: Some(true),
        ..full_document()
    };
    validate(&doc, &table(), &collection()).unwrap_or_else(|p| panic!("{p:#?}"))
});
static RESOLVERS: LazyLock<MapResolvers> = LazyLock::new(resolvers);

/// The keys [`arb_mappable_record`] fills itself: the record id, the title (`name`, required),
/// the price (`price`, required) and the web slug (`slugTemplate`).
const ID: &str = "id";
const TITLE: &str = "title";
const PRICE: &str = "s584654fd2";
const WEB_SLUG: &str = "s5c0e1a7b3";

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

/// Free text, often in other scripts (the slug's source).
fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,120}",
        "[a-zA-Z0-9 ]{0,40}",
        "[\\p{Cyrillic}\\p{Greek}\\p{Han}\\p{Hiragana} 0-9.!-]{0,60}",
        "[a-zA-Zéèüß\\p{Cyrillic}\\p{Han} _-]{0,60}",
    ]
}

/// A record the full mapping maps: a non-blank title, a price it accepts (a non-negative
/// number, as SmartSuite's string or as a number), an arbitrary id and web slug (or none), and
/// every other field of the sample record kept, removed or given an arbitrary value.
fn arb_mappable_record() -> impl Strategy<Value = (Value, String, f64)> {
    let others: Vec<String> = record()
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| ![ID, TITLE, PRICE, WEB_SLUG].contains(&k.as_str()))
        .cloned()
        .collect();
    let title = "\\PC{0,30}[\\p{L}\\p{N}]\\PC{0,30}";
    let price = (0u64..10_000_000, 0u32..10_000, any::<bool>());
    let changes = prop::collection::vec(
        (
            prop::sample::select(others),
            prop::option::weighted(0.85, arb_json()),
        ),
        0..24,
    );
    (
        "[a-zA-Z0-9_]{0,24}",
        title,
        price,
        prop::option::weighted(0.9, arb_text()),
        changes,
    )
        .prop_map(
            |(id, title, (whole, fraction, as_text), web_slug, changes)| {
                let mut record = record();
                let map = record.as_object_mut().unwrap();
                let amount = format!("{whole}.{fraction:04}");
                let price: f64 = amount.parse().unwrap();
                map.insert(ID.into(), json!(id));
                map.insert(TITLE.into(), json!(title));
                map.insert(
                    PRICE.into(),
                    if as_text { json!(amount) } else { json!(price) },
                );
                match web_slug {
                    Some(text) => map.insert(WEB_SLUG.into(), json!(text)),
                    None => map.remove(WEB_SLUG),
                };
                for (key, value) in changes {
                    match value {
                        Some(value) => map.insert(key, value),
                        None => map.remove(&key),
                    };
                }
                (record, title, price)
            },
        )
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

/// A `MissingRequired` lists required fields only, each once, and at least one.
fn check_missing(mapping: &CompiledMapping, fields: &[String]) -> Result<(), TestCaseError> {
    prop_assert!(!fields.is_empty());
    let unique: BTreeSet<&String> = fields.iter().collect();
    prop_assert_eq!(unique.len(), fields.len(), "{:?}", fields);
    for field in fields {
        prop_assert!(
            mapping.required_fields().contains(field),
            "{} is not required",
            field
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]

    #[test]
    fn records_built_to_map_always_map_and_the_item_says_what_they_held(
        (record, title, price) in arb_mappable_record()
    ) {
        let mapping = &*MAPPING;
        let item = match mapping.map_record(&record, &*RESOLVERS) {
            Ok(item) => item,
            Err(e) => return Err(TestCaseError::fail(format!("{e:?} for {record}"))),
        };

        // The slug: valid, in fieldData, from the web slug's text or else the record id.
        let slug = item.slug.as_str();
        prop_assert!(is_slug(slug) && slug.len() <= MAX_SLUG_LEN, "{}", slug);
        prop_assert_eq!(item.field_data.get("slug").and_then(Value::as_str), Some(slug));
        let text = record.get(WEB_SLUG).and_then(Value::as_str).unwrap_or("");
        let id = record.get(ID).and_then(Value::as_str);
        prop_assert_eq!(
            &item.slug,
            &Slug::from_text(text).unwrap_or_else(|| Slug::generate("", id))
        );

        // The required fields hold the record's values.
        prop_assert_eq!(item.field_data.get("name"), Some(&json!(title)));
        let sent = item.field_data.get("price").and_then(Value::as_f64);
        prop_assert!(
            sent.is_some_and(|sent| (sent - price).abs() <= 0.005 + 1e-9),
            "price {} sent as {:?}",
            price,
            sent
        );

        // fieldData holds the mapping's targets only; a target it lacks has a warning.
        let targets: BTreeSet<&str> = mapping.targets().collect();
        for key in item.field_data.keys() {
            prop_assert!(key == "slug" || targets.contains(key.as_str()), "{}", key);
        }
        for target in &targets {
            prop_assert!(
                item.field_data.contains_key(*target)
                    || item.warnings.iter().any(|w| w.field == *target),
                "{} is neither sent nor warned about",
                target
            );
        }
        for warning in &item.warnings {
            prop_assert!(
                targets.contains(warning.field.as_str())
                    || ["slug", "statusBehavior"].contains(&warning.field.as_str()),
                "{}",
                warning
            );
        }

        // Mapping is a function of the record.
        let again = mapping.map_record(&record, &*RESOLVERS);
        prop_assert_eq!(again.as_ref(), Ok(&item));
        let _ = mapping.lookups(&record);

        // Transliteration changes the slug only, and gives one whenever the text has letters
        // of any script, so it falls back to the record id no more often.
        let other = match TRANSLITERATING.map_record(&record, &*RESOLVERS) {
            Ok(other) => other,
            Err(e) => return Err(TestCaseError::fail(format!("{e:?} with transliteration"))),
        };
        prop_assert_eq!(
            &other.slug,
            &Slug::from_text_transliterated(text).unwrap_or_else(|| Slug::generate("", id))
        );
        prop_assert_eq!(other.field_data.get("slug").and_then(Value::as_str), Some(other.slug.as_str()));
        let without_slug = |m: &Map<String, Value>| {
            let mut m = m.clone();
            m.remove("slug");
            m
        };
        prop_assert_eq!(without_slug(&other.field_data), without_slug(&item.field_data));
        prop_assert_eq!(other.status, item.status);
    }

    #[test]
    fn arbitrary_json_never_panics_and_fails_only_for_missing_required_fields(value in arb_json()) {
        let mapping = &*MAPPING;
        match mapping.map_record(&value, &*RESOLVERS) {
            Ok(item) => {
                prop_assert!(is_slug(item.slug.as_str()));
                prop_assert!(item.slug.as_str().len() <= MAX_SLUG_LEN);
                prop_assert_eq!(item.field_data.get("slug").and_then(Value::as_str), Some(item.slug.as_str()));
                for field in mapping.required_fields() {
                    prop_assert!(
                        item.field_data.get(field).is_some_and(|v| !v.is_null()),
                        "required {} is empty",
                        field
                    );
                }
            }
            Err(MapError::MissingRequired { fields, .. }) => {
                check_missing(mapping, &fields)?;
                // Nothing but an object can hold a title or a price.
                if !value.is_object() {
                    prop_assert!(fields.contains(&"name".to_string()) && fields.contains(&"price".to_string()), "{:?}", fields);
                }
            }
        }
        let _ = mapping.lookups(&value);
    }

    #[test]
    fn records_with_arbitrary_field_values_never_panic(value in arb_record()) {
        let mapping = &*MAPPING;
        let result = mapping.map_record(&value, &*RESOLVERS);
        match &result {
            Ok(item) => {
                prop_assert!(is_slug(item.slug.as_str()), "{}", item.slug);
                prop_assert!(item.slug.as_str().len() <= MAX_SLUG_LEN);
            }
            Err(MapError::MissingRequired { fields, .. }) => check_missing(mapping, fields)?,
        }
        // Files and linked records are never required here: without resolvers the record
        // maps or fails the same way, with the same slug.
        let bare = mapping.map_record(&value, &NoResolvers);
        prop_assert_eq!(
            bare.as_ref().map(|item| &item.slug).map_err(|e| e.to_string()),
            result.as_ref().map(|item| &item.slug).map_err(|e| e.to_string())
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn slugs_from_any_text_are_valid(text in prop_oneof![".{0,300}".boxed(), arb_text().boxed()], id in "[a-zA-Z0-9_]{0,30}") {
        let has_ascii = text.bytes().any(|b| b.is_ascii_alphanumeric());
        for (slug, transliterated) in [(Slug::from_text(&text), false), (Slug::from_text_transliterated(&text), true)] {
            // Text with an ASCII letter or digit always gives a slug.
            prop_assert!(slug.is_some() || !has_ascii, "{:?} (transliterated: {})", text, transliterated);
            if let Some(slug) = slug {
                prop_assert!(is_slug(slug.as_str()), "{:?} -> {}", text, slug);
                prop_assert!(slug.as_str().len() <= MAX_SLUG_LEN);
                for n in 1..=9 {
                    let s = slug.with_suffix(n);
                    prop_assert!(is_slug(s.as_str()) && s.as_str().len() <= MAX_SLUG_LEN, "{}", s);
                }
            }
        }
        // Transliteration only adds: whatever gives a slug without it gives one with it.
        prop_assert!(Slug::from_text(&text).is_none() || Slug::from_text_transliterated(&text).is_some());
        let generated = Slug::generate(&text, Some(&id));
        prop_assert!(is_slug(generated.as_str()) && generated.as_str().len() <= MAX_SLUG_LEN);
    }

    #[test]
    fn letters_of_other_scripts_give_a_slug_only_with_transliteration(
        text in "[ .,!?—-]{0,3}[а-яА-ЯёЁα-ωΑ-Ω\u{4e00}-\u{9fa5}][а-яА-ЯёЁα-ωΑ-Ω\u{4e00}-\u{9fa5} .,!?—-]{0,40}"
    ) {
        prop_assert_eq!(Slug::from_text(&text), None);
        let slug = Slug::from_text_transliterated(&text);
        prop_assert!(slug.as_ref().is_some_and(|s| is_slug(s.as_str()) && s.as_str().len() <= MAX_SLUG_LEN), "{:?} -> {:?}", text, slug);
    }
}

#[test]
fn the_slug_checker_can_fail() {
    for bad in ["", "-a", "a-", "a--b", "A", "a_b"] {
        assert!(!is_slug(bad), "{bad}");
    }
    assert!(is_slug("a-1-b"));
}
