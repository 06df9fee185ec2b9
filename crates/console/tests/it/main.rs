//! The console over real HTTP on loopback, against a real PostgreSQL and the API stand-ins.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod api;
mod auth;
mod browser;
mod pages;
mod support;
