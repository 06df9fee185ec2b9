//! Integration tests of the `worker` binary and library on their own: real PostgreSQL and the
//! stand-ins. The tests that run the worker behind the real ingress are in `tests/e2e`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod config;
mod maintenance;
mod support;
