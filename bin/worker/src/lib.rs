//! The worker: claims queued events, pulls SmartSuite changes, maps them and writes them to
//! Webflow within its rate limits (DESIGN §6).

pub mod context;
pub mod metrics;
pub mod outcome;
pub mod pull;
pub mod runner;
pub mod settings;
pub mod sync;

pub use runner::{Summary, Worker};
pub use settings::Settings;
