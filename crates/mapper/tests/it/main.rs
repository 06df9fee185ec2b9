//! Integration tests of suiteflow-mapper.
#![recursion_limit = "256"]
#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns may panic

mod compat;
mod document;
mod fixtures;
mod properties;
mod samples;
mod slug;
mod transforms;
mod transliteration;
mod validation;
