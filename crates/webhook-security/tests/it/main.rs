//! Integration tests of suiteflow-webhook-security: one binary, one module per area.
// Test helpers outside `#[test]` functions unwrap too; a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod hmac;
mod secrets;
mod settings;
mod standard;
mod timestamp;
mod vectors;
