//! Integration tests of the `suiteflow` binary.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod config;
