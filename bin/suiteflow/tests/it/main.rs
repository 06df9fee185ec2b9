//! Integration tests of the `suiteflow` binary.

mod config;
