//! Integration tests of the `worker` binary: real PostgreSQL, the real ingress, the worker, and
//! the SmartSuite and Webflow stand-ins over loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod config;
mod e2e;
mod logs;
mod maintenance;
mod processes;
mod support;
mod trace;
