//! Integration tests of the `worker` binary.

mod config;
