#![doc = include_str!("../README.md")]

pub mod context;
pub mod metrics;
pub mod outcome;
pub mod pull;
pub mod runner;
pub mod settings;
pub mod sync;

pub use runner::{Summary, Worker};
pub use settings::Settings;
