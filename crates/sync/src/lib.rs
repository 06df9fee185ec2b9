#![doc = include_str!("../README.md")]

pub mod admin;
pub mod backfill;
pub mod budget;
pub mod check;
pub mod connect;
pub mod context;
mod engine;
pub mod failure;
pub mod index;
pub mod mapping;
mod outcome;
pub mod preview;
mod pull;
pub mod resolve;
pub mod webhooks;
mod write;

pub use connect::{ClientOptions, Clients, Connector, Schemas, Session};
pub use context::{Built, ConnectionContext};
pub use engine::{ContextError, Engine};
pub use failure::{Api, Cause, ErrorDetail, Failure, FailureKind, Wait};
pub use outcome::Outcome;
pub use write::{BULK_LIMIT, Written};
