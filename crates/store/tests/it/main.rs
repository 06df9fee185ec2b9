//! Integration tests of suiteflow-store against a real PostgreSQL (`scripts/with-postgres.sh`):
//! each test gets a database of its own cloned from the migrated template.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod connections;
mod housekeeping;
mod id_map;
mod listener;
mod locks;
mod pool;
mod queue_admin;
mod queue_claim;
mod queue_concurrency;
mod queue_enqueue;
mod queue_settle;
mod queue_support;
mod rate_limit;
