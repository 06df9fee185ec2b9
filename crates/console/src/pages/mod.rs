//! The console's pages, one module per part.

pub mod connections;
pub mod events;
pub mod mapping;
pub mod overview;

/// The query of a page an action redirects to: what the action did, shown once.
#[derive(serde::Deserialize)]
pub struct Done {
    pub done: Option<String>,
}
