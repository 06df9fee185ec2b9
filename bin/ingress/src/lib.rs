//! The ingress: authenticates webhooks, dedupes them and enqueues one row per change.

pub mod settings;

pub use settings::Settings;
