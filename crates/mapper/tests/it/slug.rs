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
