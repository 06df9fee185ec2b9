//! Integration tests of the `suiteflow` binary: each runs the real binary against its own
//! database and the SmartSuite and Webflow stand-ins.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod backfill;
mod check;
mod common;
mod config;
mod connection;
mod events;
mod keys;
mod mapping;
mod migrate;
mod misc;
