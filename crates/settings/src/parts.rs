//! Settings parts shared by more than one binary. Parts that belong to one library live in it
//! (`DatabaseConfig` in `store`, `KeyConfig` in `crypto`, …).

use std::time::Duration;

use crate::{Reader, http_url, integer_in};

/// `APP_URL`: the public base of webhook URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(pub url::Url);

impl PublicUrl {
    pub fn read(r: &mut Reader<'_>) -> Option<Self> {
        let url = r.with_default("APP_URL", default_url("http://localhost:8080"), http_url)?;
        Some(Self(url))
    }

    /// Whether the public URL is https (browsers are then told to use nothing else, and the
    /// console's cookie is `Secure`).
    pub fn is_https(&self) -> bool {
        self.0.scheme() == "https"
    }

    /// `APP_URL` joined with a path, without doubling the slash.
    pub fn join(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.0.as_str().trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }
}

/// Retry policy defaults: `MAX_RETRY_ATTEMPTS`, `RETRY_BACKOFF_MS`, `MAX_RETRY_BACKOFF_MS`,
/// and the default Webflow write cap `WRITE_CAP_PER_MINUTE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    pub max_attempts: u32,
    pub backoff: Duration,
    pub max_backoff: Duration,
    pub write_cap_per_minute: u32,
}

impl RetryConfig {
    pub fn read(r: &mut Reader<'_>) -> Option<Self> {
        let max_attempts = r.with_default("MAX_RETRY_ATTEMPTS", 5, integer_in(0..=50));
        let backoff = r.with_default("RETRY_BACKOFF_MS", 1000, integer_in(1..=3_600_000));
        let max_backoff = r.with_default("MAX_RETRY_BACKOFF_MS", 60_000, integer_in(1..=3_600_000));
        let cap = r.with_default("WRITE_CAP_PER_MINUTE", 50, integer_in(1..=1000));
        if let (Some(base), Some(max)) = (backoff, max_backoff)
            && base > max
        {
            let origin = r.origin("RETRY_BACKOFF_MS");
            r.report(
                "RETRY_BACKOFF_MS",
                "must not exceed MAX_RETRY_BACKOFF_MS",
                origin,
            );
            return None;
        }
        Some(Self {
            max_attempts: u32::try_from(max_attempts?).ok()?,
            backoff: Duration::from_millis(backoff?),
            max_backoff: Duration::from_millis(max_backoff?),
            write_cap_per_minute: u32::try_from(cap?).ok()?,
        })
    }
}

/// Base URLs of the two external APIs (tests and the demo point them at local stand-ins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiBases {
    pub webflow: url::Url,
    pub smartsuite: url::Url,
    pub smartsuite_webhooks: url::Url,
    /// `SMARTSUITE_MONTHLY_QUOTA`: the SmartSuite plan's full-speed calls per month, when the
    /// operator says it (80 % of it is a warning).
    pub smartsuite_monthly_quota: Option<u64>,
}

impl ApiBases {
    pub fn read(r: &mut Reader<'_>) -> Option<Self> {
        let webflow = r.with_default(
            "WEBFLOW_API_BASE",
            default_url("https://api.webflow.com/v2"),
            http_url,
        );
        let smartsuite = r.with_default(
            "SMARTSUITE_API_BASE",
            default_url("https://app.smartsuite.com/api/v1"),
            http_url,
        );
        let smartsuite_webhooks = r.with_default(
            "SMARTSUITE_WEBHOOKS_API_BASE",
            default_url("https://webhooks.smartsuite.com"),
            http_url,
        );
        let quota = r.optional(
            "SMARTSUITE_MONTHLY_QUOTA",
            crate::integer_in(1..=1_000_000_000_000),
        );
        Some(Self {
            webflow: webflow?,
            smartsuite: smartsuite?,
            smartsuite_webhooks: smartsuite_webhooks?,
            smartsuite_monthly_quota: quota?,
        })
    }
}

#[allow(clippy::expect_used)] // constants, covered by the defaults test
fn default_url(text: &'static str) -> url::Url {
    url::Url::parse(text).expect("built-in default URL parses")
}
