#![doc = include_str!("../README.md")]
// A dev-only crate: failing loudly is what a test helper should do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod db;

pub use db::TestDb;
