use std::io::Write;

use crate::parts::{ApiBases, PublicUrl, RetryConfig};
use crate::{Reader, Source, integer_in};

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn retry(pairs: &[(&str, &str)]) -> Result<RetryConfig, crate::Problems> {
    let source = Source::new(None, env(pairs)).unwrap();
    let mut r = Reader::new(&source);
    let part = RetryConfig::read(&mut r);
    r.finish(|| part)
}

#[test]
fn defaults_apply_when_nothing_is_set() {
    let source = Source::new(None, env(&[])).unwrap();
    let mut r = Reader::new(&source);
    let (retry, url, bases) = (
        RetryConfig::read(&mut r),
        PublicUrl::read(&mut r),
        ApiBases::read(&mut r),
    );
    let (retry, url, bases) = r.finish(|| Some((retry?, url?, bases?))).unwrap();
    assert_eq!(retry.max_attempts, 5);
    assert_eq!(retry.backoff.as_millis(), 1000);
    assert_eq!(retry.max_backoff.as_millis(), 60_000);
    assert_eq!(retry.write_cap_per_minute, 50);
    assert_eq!(
        url.join("/api/hooks/x"),
        "http://localhost:8080/api/hooks/x"
    );
    assert_eq!(bases.webflow.as_str(), "https://api.webflow.com/v2");
    assert_eq!(
        bases.smartsuite.as_str(),
        "https://app.smartsuite.com/api/v1"
    );
    assert_eq!(
        bases.smartsuite_webhooks.as_str(),
        "https://webhooks.smartsuite.com/"
    );
    assert_eq!(bases.smartsuite_monthly_quota, None);
}

#[test]
fn the_smartsuite_quota_is_a_positive_integer_when_given() {
    let read = |pairs: &[(&str, &str)]| {
        let source = Source::new(None, env(pairs)).unwrap();
        let mut r = Reader::new(&source);
        let bases = ApiBases::read(&mut r);
        r.finish(|| bases)
    };
    let bases = read(&[("SMARTSUITE_MONTHLY_QUOTA", "5000")]).unwrap();
    assert_eq!(bases.smartsuite_monthly_quota, Some(5000));
    for bad in ["0", "-1", "lots"] {
        let problems = read(&[("SMARTSUITE_MONTHLY_QUOTA", bad)]).unwrap_err();
        assert!(problems.names("SMARTSUITE_MONTHLY_QUOTA"), "{bad}");
    }
    let problems = read(&[("SMARTSUITE_MONTHLY_QUOTA", "lots")]).unwrap_err();
    assert!(
        !problems.lines().join("\n").contains("lots"),
        "the value is never printed"
    );
}

#[test]
fn numbers_out_of_range_are_named() {
    for (name, bad) in [
        ("MAX_RETRY_ATTEMPTS", "51"),
        ("RETRY_BACKOFF_MS", "0"),
        ("MAX_RETRY_BACKOFF_MS", "3600001"),
        ("WRITE_CAP_PER_MINUTE", "1001"),
        ("WRITE_CAP_PER_MINUTE", "0"),
        ("WRITE_CAP_PER_MINUTE", "-4"),
        ("WRITE_CAP_PER_MINUTE", "fifty"),
    ] {
        let problems = retry(&[(name, bad)]).unwrap_err();
        assert!(
            problems.names(name),
            "{name}={bad} not reported: {problems:?}"
        );
        assert_eq!(problems.0.len(), 1, "{problems:?}");
        let line = problems.lines().join("\n");
        assert!(line.contains("must be an integer from"), "{line}");
    }
}

#[test]
fn backoff_above_its_maximum_is_refused() {
    let problems = retry(&[
        ("RETRY_BACKOFF_MS", "5000"),
        ("MAX_RETRY_BACKOFF_MS", "4000"),
    ])
    .unwrap_err();
    assert_eq!(problems.0.len(), 1);
    assert_eq!(problems.0[0].variable, "RETRY_BACKOFF_MS");
    assert!(problems.0[0].rule.contains("MAX_RETRY_BACKOFF_MS"));
    assert!(
        retry(&[
            ("RETRY_BACKOFF_MS", "4000"),
            ("MAX_RETRY_BACKOFF_MS", "4000")
        ])
        .is_ok()
    );
}

#[test]
fn relative_app_url_is_refused() {
    for bad in [
        "/hooks",
        "localhost:8080",
        "ftp://example.com",
        "example.com",
    ] {
        let source = Source::new(None, env(&[("APP_URL", bad)])).unwrap();
        let mut r = Reader::new(&source);
        let part = PublicUrl::read(&mut r);
        let problems = r.finish(|| part).unwrap_err();
        assert!(problems.names("APP_URL"), "{bad}");
        assert!(
            !problems.lines().join("").contains(bad),
            "value leaked for {bad}"
        );
    }
}

#[test]
fn every_problem_is_reported_at_once_without_values() {
    let source = Source::new(
        None,
        env(&[
            ("MAX_RETRY_ATTEMPTS", "999"),
            ("WEBFLOW_API_BASE", "not a url"),
            ("APP_URL", "relative/secret-value"),
        ]),
    )
    .unwrap();
    let mut r = Reader::new(&source);
    let (a, b, c) = (
        RetryConfig::read(&mut r),
        ApiBases::read(&mut r),
        PublicUrl::read(&mut r),
    );
    let problems = r.finish(|| Some((a?, b?, c?))).unwrap_err();
    let lines = problems.lines();
    assert_eq!(lines.len(), 3, "{lines:?}");
    for name in ["MAX_RETRY_ATTEMPTS", "WEBFLOW_API_BASE", "APP_URL"] {
        assert!(
            lines.iter().any(|l| l.contains(name)),
            "{name} missing from {lines:?}"
        );
    }
    assert!(!lines.join("\n").contains("secret-value"));
}

#[test]
fn a_file_value_is_overridden_by_the_environment() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "WORKER_BATCH_SIZE = 40\nlog_level = \"debug\"").unwrap();
    let read = |env_pairs: &[(&str, &str)]| {
        let source = Source::new(Some(file.path()), env(env_pairs)).unwrap();
        let mut r = Reader::new(&source);
        let batch = r.with_default("WORKER_BATCH_SIZE", 25, integer_in(1..=1000));
        let level = r.with_default("LOG_LEVEL", "info".to_string(), |s| Ok(s.to_string()));
        r.finish(|| Some((batch?, level?))).unwrap()
    };
    assert_eq!(read(&[]), (40, "debug".to_string()));
    assert_eq!(
        read(&[("WORKER_BATCH_SIZE", "7")]),
        (7, "debug".to_string())
    );
}

#[test]
fn a_bad_file_value_names_the_file() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "WORKER_BATCH_SIZE = 0").unwrap();
    let source = Source::new(Some(file.path()), env(&[])).unwrap();
    let mut r = Reader::new(&source);
    let batch = r.with_default("WORKER_BATCH_SIZE", 25, integer_in(1..=1000));
    let problems = r.finish(|| batch).unwrap_err();
    let line = &problems.lines()[0];
    assert!(
        line.contains("WORKER_BATCH_SIZE") && line.contains(&file.path().display().to_string()),
        "{line}"
    );
}

#[test]
fn unknown_keys_in_the_file_and_broken_toml_are_problems() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "WORKER_BACH_SIZE = 10").unwrap();
    let source = Source::new(Some(file.path()), env(&[])).unwrap();
    let problems = Reader::new(&source).finish(|| Some(())).unwrap_err();
    assert!(problems.names("WORKER_BACH_SIZE"));

    let mut broken = tempfile::NamedTempFile::new().unwrap();
    writeln!(broken, "WORKER_BATCH_SIZE = = 3").unwrap();
    let problems = Source::new(Some(broken.path()), env(&[])).err().unwrap();
    assert!(problems.names("SUITEFLOW_CONFIG"));
}

#[test]
fn unrelated_environment_variables_are_ignored() {
    let source = Source::new(None, env(&[("HOME", "/root"), ("PATH", "/bin")])).unwrap();
    assert!(Reader::new(&source).finish(|| Some(())).is_ok());
}

#[test]
fn an_all_digit_value_stays_text() {
    // figment's own Env provider would read this as a number and lose digits.
    let digits = "1".repeat(64);
    let source = Source::new(None, env(&[("DATA_ENCRYPTION_KEY", &digits)])).unwrap();
    assert_eq!(source.get("DATA_ENCRYPTION_KEY").unwrap().0, digits);
}
