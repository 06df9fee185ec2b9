//! Tests of the stand-ins' own behaviour that the client crates' tests do not cover.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod webflow;
