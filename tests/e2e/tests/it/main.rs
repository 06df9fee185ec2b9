//! Tests that span the ingress and the worker (and the CLI): real PostgreSQL, the real ingress,
//! the worker, and the SmartSuite and Webflow stand-ins over loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod analytics;
mod budgets;
mod connection_changes;
mod failures;
mod files;
mod first_contact;
mod links;
mod logs;
mod ordering;
mod processes;
mod schema_drift;
mod support;
mod trace;
mod webhook_health;
mod worker;
mod write;
