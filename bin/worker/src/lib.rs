//! The worker: claims queued events, pulls SmartSuite changes, maps them and writes to Webflow.

pub mod settings;

pub use settings::Settings;
