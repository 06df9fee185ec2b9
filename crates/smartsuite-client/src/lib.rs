#![doc = include_str!("../README.md")]

mod client;
mod error;
mod limiter;
mod types;

pub use client::{MAX_RECORDS_PER_PAGE, SmartSuiteClient, SmartSuiteClientBuilder};
pub use error::Error;
pub use types::{
    ALL_RECORD_EVENTS, Choice, EventPage, FieldDef, FieldType, ListRecords, NewWebhook, Record,
    RecordEventData, RecordPage, Solution, Sort, Table, Webhook, WebhookEvent, WebhookFilter,
    WebhookPage,
};

pub use suiteflow_http::install_crypto_provider;
