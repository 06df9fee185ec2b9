use suiteflow_crypto::{DashboardConfig, KeyConfig, Keyring, PasswordHash};
use suiteflow_settings::{Problems, Reader, Source};

use crate::{KEY_A, KEY_B, key};

fn source(pairs: &[(&str, &str)]) -> Source {
    Source::new(
        None,
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>(),
    )
    .unwrap()
}

fn keys(pairs: &[(&str, &str)]) -> Result<Keyring, Problems> {
    let source = source(pairs);
    let mut r = Reader::new(&source);
    let part = KeyConfig::read(&mut r);
    r.finish(|| part)
}

fn dashboard(pairs: &[(&str, &str)]) -> Result<DashboardConfig, Problems> {
    let source = source(pairs);
    let mut r = Reader::new(&source);
    let part = DashboardConfig::read(&mut r);
    r.finish(|| part)
}

/// The problem lines name `variable`, state the rule, and never contain `value`.
fn assert_refused(problems: &Problems, variable: &str, value: &str, rule: &str) {
    assert!(problems.names(variable), "{problems:?}");
    let text = problems.lines().join("\n");
    assert!(text.contains(variable), "{text}");
    assert!(text.contains(rule), "{text}");
    if !value.is_empty() {
        assert!(!text.contains(value), "the value leaked: {text}");
        assert!(
            !format!("{problems:?}").contains(value),
            "the value leaked into Debug"
        );
    }
}

#[test]
fn a_good_key_gives_a_keyring() {
    let keyring = keys(&[("DATA_ENCRYPTION_KEY", KEY_A)]).unwrap();
    assert_eq!(keyring.current_key_id(), key(KEY_A).id());
    assert_eq!(keyring.previous_key_id(), None);
}

#[test]
fn the_previous_key_is_read_too() {
    let keyring = keys(&[
        ("DATA_ENCRYPTION_KEY", KEY_B),
        ("DATA_ENCRYPTION_KEY_PREVIOUS", KEY_A),
    ])
    .unwrap();
    assert_eq!(keyring.current_key_id(), key(KEY_B).id());
    assert_eq!(keyring.previous_key_id(), Some(key(KEY_A).id()));
    // An empty previous key counts as unset.
    let keyring = keys(&[
        ("DATA_ENCRYPTION_KEY", KEY_B),
        ("DATA_ENCRYPTION_KEY_PREVIOUS", ""),
    ])
    .unwrap();
    assert_eq!(keyring.previous_key_id(), None);
}

#[test]
fn bad_keys_are_named_without_their_value() {
    let nonhex = format!("{}zz", &KEY_A[..62]);
    let short = &KEY_A[..63];
    let long = format!("{KEY_A}a");
    for bad in [short, long.as_str(), nonhex.as_str()] {
        let problems = keys(&[("DATA_ENCRYPTION_KEY", bad)]).unwrap_err();
        assert_eq!(problems.0.len(), 1, "{problems:?}");
        assert_refused(
            &problems,
            "DATA_ENCRYPTION_KEY",
            bad,
            "must be exactly 64 hexadecimal characters",
        );
    }
}

#[test]
fn a_missing_key_is_required() {
    let problems = keys(&[]).unwrap_err();
    assert_eq!(problems.0.len(), 1, "{problems:?}");
    assert_refused(&problems, "DATA_ENCRYPTION_KEY", "", "is required");
    // Only the previous key is not enough.
    let problems = keys(&[("DATA_ENCRYPTION_KEY_PREVIOUS", KEY_A)]).unwrap_err();
    assert_refused(&problems, "DATA_ENCRYPTION_KEY", "", "is required");
}

#[test]
fn a_bad_previous_key_is_named_and_both_problems_are_reported() {
    let bad = "abc123";
    let problems = keys(&[
        ("DATA_ENCRYPTION_KEY", KEY_A),
        ("DATA_ENCRYPTION_KEY_PREVIOUS", bad),
    ])
    .unwrap_err();
    assert_eq!(problems.0.len(), 1);
    assert_refused(
        &problems,
        "DATA_ENCRYPTION_KEY_PREVIOUS",
        bad,
        "must be exactly 64 hexadecimal characters",
    );

    let problems = keys(&[
        ("DATA_ENCRYPTION_KEY", "xyz"),
        ("DATA_ENCRYPTION_KEY_PREVIOUS", bad),
    ])
    .unwrap_err();
    assert_eq!(problems.0.len(), 2, "{problems:?}");
    assert!(
        problems.names("DATA_ENCRYPTION_KEY") && problems.names("DATA_ENCRYPTION_KEY_PREVIOUS")
    );
}

#[test]
fn dashboard_hash_is_optional() {
    assert_eq!(dashboard(&[]).unwrap().password_hash, None);
}

#[test]
fn a_real_bcrypt_dashboard_hash_is_accepted() {
    let made = bcrypt::hash("operator", 4).unwrap();
    let config = dashboard(&[("DASHBOARD_PASSWORD_HASH", &made)]).unwrap();
    let hash: &PasswordHash = config.password_hash.as_ref().unwrap();
    assert!(hash.verify("operator"));
    assert!(!hash.verify("intruder"));
    assert!(!format!("{config:?}").contains(&made[7..]));
}

#[test]
fn a_dashboard_hash_that_is_not_bcrypt_is_refused() {
    for bad in [
        "operator-password",
        "$1$abcdefgh$abcdefghijklmnopqrstuv",
        "$2b$12$short",
    ] {
        let problems = dashboard(&[("DASHBOARD_PASSWORD_HASH", bad)]).unwrap_err();
        assert_eq!(problems.0.len(), 1);
        assert_refused(
            &problems,
            "DASHBOARD_PASSWORD_HASH",
            bad,
            "must be a bcrypt hash",
        );
    }
}
