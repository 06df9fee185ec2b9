#![doc = include_str!("../README.md")]

mod client;
mod error;
mod limiter;
mod transport;
mod types;

pub use client::{MAX_RECORDS_PER_PAGE, SmartSuiteClient, SmartSuiteClientBuilder};
pub use error::Error;
pub use types::{
    ALL_RECORD_EVENTS, Choice, EventPage, FieldDef, FieldType, ListRecords, NewWebhook, Record,
    RecordEventData, RecordPage, Solution, Sort, Table, Webhook, WebhookEvent, WebhookFilter,
    WebhookPage,
};

/// Installs rustls' ring crypto provider as the process default, once; later calls do nothing.
/// reqwest is built without a provider of its own and panics without one. The client builder
/// calls this itself.
pub fn install_crypto_provider() {
    // An error only means a provider is already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
