#![doc = include_str!("../README.md")]

mod client;
mod error;
mod transport;
mod types;

pub use client::{MAX_ITEMS_PER_CALL, WebflowClient, WebflowClientBuilder};
pub use error::{Error, ErrorDetail};
pub use types::{
    BulkCreate, Collection, CollectionSummary, Field, FieldOption, FieldType, Item, ItemData,
    ItemPage, ItemUpdate, ListItems, Locale, Locales, Pagination, PublishResult, RateInfo, Reply,
    Site, Target,
};

/// Installs rustls' ring crypto provider as the process default, once; later calls do nothing.
/// reqwest is built without a provider of its own and panics without one. The client builder
/// calls this itself; binaries may call it early.
pub fn install_crypto_provider() {
    // An error only means a provider is already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
