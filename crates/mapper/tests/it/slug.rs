//! Slugs.

use suiteflow_mapper::{MAX_SLUG_LEN, Slug, SlugError};

#[test]
fn slugify_free_text() {
    let s = |t: &str| Slug::from_text(t).map(Slug::into_string);
    assert_eq!(
        s("Launch notes: spring release").as_deref(),
        Some("launch-notes-spring-release")
    );
    assert_eq!(s("  --Hello__World--  ").as_deref(), Some("hello-world"));
    assert_eq!(s("TEST-001").as_deref(), Some("test-001"));
    assert_eq!(
        s("helloWorld v2Beta").as_deref(),
        Some("hello-world-v2-beta")
    );
    assert_eq!(
        s("Crème brûlée à Zürich, Straße").as_deref(),
        Some("creme-brulee-a-zurich-strasse")
    );
    assert_eq!(s("日本語"), None);
    assert_eq!(s(""), None);
    assert_eq!(s("!!!"), None);
}

#[test]
fn long_text_is_cut_on_a_word_boundary() {
    let text = "word ".repeat(40);
    let slug = Slug::from_text(&text).unwrap();
    assert!(slug.as_str().len() <= MAX_SLUG_LEN);
    assert!(slug.as_str().ends_with("word"));
    let long = "a".repeat(250);
    assert_eq!(Slug::from_text(&long).unwrap().as_str().len(), MAX_SLUG_LEN);
}

#[test]
fn fallback_to_record_id() {
    assert_eq!(
        Slug::generate("", Some("6493681eba09b400816eb754")).as_str(),
        "6493681eba09b400816eb754"
    );
    assert_eq!(
        Slug::generate("?", Some("rec_test_123")).as_str(),
        "rec-test-123"
    );
    assert_eq!(Slug::generate("", None).as_str(), "item");
    assert_eq!(Slug::generate("My Post", Some("x")).as_str(), "my-post");
}

#[test]
fn construction_validates() {
    assert!(Slug::new("a-b-1").is_ok());
    assert_eq!(Slug::new(""), Err(SlugError::Empty));
    assert_eq!(Slug::new("a".repeat(101)), Err(SlugError::TooLong(101)));
    for bad in ["-a", "a-", "a--b", "A", "a b", "a_b", "é"] {
        assert_eq!(Slug::new(bad), Err(SlugError::Invalid), "{bad}");
    }
    assert!(serde_json::from_str::<Slug>("\"Bad Slug\"").is_err());
    assert_eq!(
        serde_json::from_str::<Slug>("\"ok-slug\"")
            .unwrap()
            .as_str(),
        "ok-slug"
    );
}

#[test]
fn suffixes_keep_the_length_rule() {
    let slug = Slug::new("my-post").unwrap();
    assert_eq!(slug.with_suffix(1).as_str(), "my-post-1");
    assert_eq!(slug.with_suffix(9).as_str(), "my-post-9");
    let long = Slug::new("a".repeat(100)).unwrap();
    let suffixed = long.with_suffix(3);
    assert_eq!(suffixed.as_str().len(), 100);
    assert!(suffixed.as_str().ends_with("a-3"));
    let dashed = Slug::new(format!("{}-b", "a".repeat(97))).unwrap();
    let suffixed = dashed.with_suffix(7);
    assert!(Slug::new(suffixed.as_str()).is_ok(), "{suffixed}");
    assert!(suffixed.as_str().len() <= 100);
}

#[test]
fn transliterated_slugs_spell_other_scripts_in_latin_letters() {
    let s = |t: &str| Slug::from_text_transliterated(t).map(Slug::into_string);
    // Cyrillic, Greek, CJK.
    assert_eq!(s("Ёлка").as_deref(), Some("iolka"));
    assert_eq!(s("Новая ёлка 2024").as_deref(), Some("novaia-iolka-2024"));
    assert_eq!(s("Москва").as_deref(), Some("moskva"));
    assert_eq!(s("Αθήνα").as_deref(), Some("athena"));
    assert_eq!(s("Ελληνικά νέα").as_deref(), Some("ellenika-nea"));
    assert_eq!(s("北京").as_deref(), Some("bei-jing"));
    assert_eq!(s("日本語").as_deref(), Some("ri-ben-yu"));
    assert_eq!(s("ひらがな").as_deref(), Some("hiragana"));
    assert_eq!(s("한국어").as_deref(), Some("hangugeo"));
    // Mixed with Latin text, accents and digits.
    assert_eq!(
        s("Crème brûlée — Ёлка, 北京 & Zürich").as_deref(),
        Some("creme-brulee-iolka-bei-jing-zurich")
    );
    assert_eq!(s("東京Tower 2").as_deref(), Some("dong-jing-tower-2"));
    // A capital is one capital however many letters spell it; camelCase still splits.
    assert_eq!(s("ЩУКА").as_deref(), Some("shchuka"));
    assert_eq!(s("ёлкаНовая").as_deref(), Some("iolka-novaia"));
    // Combining accents (decomposed text) stay inside their word; symbols and emoji separate.
    assert_eq!(s("Zu\u{308}rich").as_deref(), Some("zurich"));
    assert_eq!(s("Launch 🚀 day €").as_deref(), Some("launch-day"));
    assert_eq!(s("🚀"), None);
    assert_eq!(s(""), None);
    assert_eq!(s("!!!"), None);
}

#[test]
fn transliteration_changes_nothing_that_already_had_a_slug_of_latin_text() {
    for text in [
        "Launch notes: spring release",
        "  --Hello__World--  ",
        "helloWorld v2Beta",
        "Crème brûlée à Zürich, Straße",
        "TEST-001",
    ] {
        assert_eq!(
            Slug::from_text_transliterated(text),
            Slug::from_text(text),
            "{text}"
        );
    }
}

#[test]
fn transliterated_slugs_keep_the_length_rule() {
    let long = "Ёлка ".repeat(60);
    let slug = Slug::from_text_transliterated(&long).unwrap();
    assert!(slug.as_str().len() <= MAX_SLUG_LEN, "{slug}");
    assert!(slug.as_str().ends_with("iolka"), "{slug}");
    let han = "北".repeat(200);
    let slug = Slug::from_text_transliterated(&han).unwrap();
    assert!(slug.as_str().len() <= MAX_SLUG_LEN, "{slug}");
    assert!(Slug::new(slug.as_str()).is_ok());
}
