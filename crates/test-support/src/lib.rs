#![doc = include_str!("../README.md")]
// A dev-only crate: failing loudly is what a test helper should do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod config;
pub mod db;
pub mod fixtures;
pub mod http;
pub mod otlp;
pub mod process;
pub mod rows;
mod server;
pub mod smartsuite;
pub mod webflow;

pub use db::TestDb;
