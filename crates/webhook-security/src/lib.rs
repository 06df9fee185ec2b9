#![doc = include_str!("../README.md")]

mod config;
mod error;
mod hmac_scheme;
mod scheme;
mod standard;
mod timestamp;
mod url_token;

pub use config::{WEBHOOK_MAX_AGE_SECS, WebhookConfig};
pub use error::{SecretError, TimestampError, UnknownScheme, WebhookError};
pub use hmac_scheme::{
    HMAC_SIGNATURE_HEADER, HMAC_TIMESTAMP_HEADER, HmacVerifier, IDEMPOTENCY_KEY_HEADER, sign_hmac,
    verify_hmac,
};
pub use scheme::{Scheme, Verified, Verifier, generate_webhook_secret};
pub use standard::{
    SECRET_PREFIX, StandardHeaders, StandardMessage, StandardVerifier, WEBHOOK_ID_HEADER,
    WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER, sign_standard,
};
pub use timestamp::{DEFAULT_MAX_AGE, FUTURE_SKEW, TimestampWindow, parse_timestamp, unix_now};
pub use url_token::{url_token_hash, url_token_matches};
