#![doc = include_str!("../README.md")]

mod client;
mod error;
mod types;
mod wire;

pub use client::{MAX_ITEMS_PER_CALL, WebflowClient, WebflowClientBuilder};
pub use error::{Error, ErrorDetail};
pub use types::{
    BulkCreate, Collection, CollectionSummary, Field, FieldOption, FieldType, Item, ItemData,
    ItemPage, ItemUpdate, ListItems, Locale, Locales, Pagination, PublishResult, RateInfo, Reply,
    Site, Target,
};

pub use suiteflow_http::install_crypto_provider;
