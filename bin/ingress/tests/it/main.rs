//! Integration tests of the `ingress` binary: a real server on port 0, a real PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod commit;
mod config;
mod health;
mod hostile;
mod push;
mod smartsuite;
mod support;
