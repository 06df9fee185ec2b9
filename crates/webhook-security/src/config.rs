//! The settings part of this crate.

use std::time::Duration;

use suiteflow_settings::{Reader, integer_in};

use crate::TimestampWindow;

/// The variable holding the maximum age of a webhook, in seconds.
pub const WEBHOOK_MAX_AGE_SECS: &str = "WEBHOOK_MAX_AGE_SECS";

/// `WEBHOOK_MAX_AGE_SECS`: an integer from 1 to 86400, default 300.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookConfig {
    pub max_age: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            max_age: crate::timestamp::DEFAULT_MAX_AGE,
        }
    }
}

impl WebhookConfig {
    pub fn read(r: &mut Reader<'_>) -> Option<Self> {
        let secs = r.with_default(WEBHOOK_MAX_AGE_SECS, 300, integer_in(1..=86_400))?;
        Some(Self {
            max_age: Duration::from_secs(secs),
        })
    }

    /// The timestamp window: `max_age` into the past, 30 s into the future.
    pub fn window(&self) -> TimestampWindow {
        TimestampWindow::new(self.max_age)
    }
}
