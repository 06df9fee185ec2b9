//! Tests only: see `tests/it` and the README.
#![doc = include_str!("../README.md")]
