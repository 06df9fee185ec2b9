use std::time::Duration;

use suiteflow_settings::{Problems, Reader, Source};
use suiteflow_webhook_security::WebhookConfig;

fn read(pairs: &[(&str, &str)]) -> Result<WebhookConfig, Problems> {
    let env: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let source = Source::new(None, env).unwrap();
    let mut r = Reader::new(&source);
    let part = WebhookConfig::read(&mut r);
    r.finish(|| part)
}

#[test]
fn max_age_defaults_to_300_s() {
    let config = read(&[]).unwrap();
    assert_eq!(config.max_age, Duration::from_secs(300));
    assert_eq!(config, WebhookConfig::default());
    assert_eq!(config.window().future_skew, Duration::from_secs(30));
}

#[test]
fn max_age_is_read() {
    let config = read(&[("WEBHOOK_MAX_AGE_SECS", "60")]).unwrap();
    assert_eq!(config.window().max_age, Duration::from_secs(60));
    assert_eq!(
        read(&[("WEBHOOK_MAX_AGE_SECS", "1")])
            .unwrap()
            .max_age
            .as_secs(),
        1
    );
    assert_eq!(
        read(&[("WEBHOOK_MAX_AGE_SECS", "86400")])
            .unwrap()
            .max_age
            .as_secs(),
        86_400
    );
}

#[test]
fn out_of_range_or_non_integer_max_age_is_named() {
    for bad in ["0", "86401", "-5", "five", "1.5"] {
        let problems = read(&[("WEBHOOK_MAX_AGE_SECS", bad)]).unwrap_err();
        assert_eq!(problems.0.len(), 1, "{problems:?}");
        assert!(problems.names("WEBHOOK_MAX_AGE_SECS"));
        let text = problems.lines().join("\n");
        assert!(
            text.contains("must be an integer from 1 to 86400"),
            "{text}"
        );
    }
}
