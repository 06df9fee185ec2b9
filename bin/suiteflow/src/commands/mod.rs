//! One module per top-level command.

pub mod backfill;
pub mod check;
pub mod connection;
pub mod events;
pub mod mapping;
pub mod migrate;
pub mod rotate_keys;
