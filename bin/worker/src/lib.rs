#![doc = include_str!("../README.md")]

mod app;
mod health;
mod heartbeat;
mod maintenance;
pub mod metrics;
mod process;
mod record;
pub mod retry;
mod runner;
pub mod settings;
mod spans;

pub use app::Application;
pub use runner::{Summary, Worker};
pub use settings::Settings;
