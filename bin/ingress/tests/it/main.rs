//! Integration tests of the `ingress` binary.

mod config;
