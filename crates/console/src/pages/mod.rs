//! The console's pages, one module per part.

pub mod connections;
pub mod events;
pub mod mapping;
pub mod overview;
