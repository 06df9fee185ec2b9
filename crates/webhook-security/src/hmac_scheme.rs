//! The `hmac` scheme: `x-smartsuite-signature: sha256=<hex HMAC-SHA256(secret, raw body)>`.

use std::fmt;

use ring::hmac;
use suiteflow_crypto::SecretString;

use crate::{SecretError, WebhookError};

/// The header carrying the signature.
pub const HMAC_SIGNATURE_HEADER: &str = "x-smartsuite-signature";
/// The optional header carrying the send time (unix seconds); not covered by the signature.
pub const HMAC_TIMESTAMP_HEADER: &str = "x-smartsuite-timestamp";
/// The optional header carrying the sender's idempotency key.
pub const IDEMPOTENCY_KEY_HEADER: &str = "x-idempotency-key";

const PREFIX: &str = "sha256=";
const TAG_LEN: usize = 32;

/// Verifies (and makes) `hmac` signatures. The HMAC key is the UTF-8 bytes of the secret
/// exactly as it was given to the sender. `Debug` shows no key.
#[derive(Clone)]
pub struct HmacVerifier {
    key: hmac::Key,
}

impl HmacVerifier {
    /// Refuses an empty (or all-whitespace) secret.
    pub fn new(secret: &SecretString) -> Result<Self, SecretError> {
        if secret.expose().trim().is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes()),
        })
    }

    /// `sha256=<lowercase hex>` of the body, the value of [`HMAC_SIGNATURE_HEADER`].
    pub fn sign(&self, body: &[u8]) -> String {
        format!(
            "{PREFIX}{}",
            hex::encode(hmac::sign(&self.key, body).as_ref())
        )
    }

    /// Checks the value of [`HMAC_SIGNATURE_HEADER`] (`None` when absent) against the raw body:
    /// `sha256=<hex>` or bare hex, either case, compared in constant time.
    pub fn verify(&self, header: Option<&str>, body: &[u8]) -> Result<(), WebhookError> {
        let header = header.map(str::trim).filter(|h| !h.is_empty());
        let header = header.ok_or(WebhookError::MissingHeader(HMAC_SIGNATURE_HEADER))?;
        let hex_text = match header.get(..PREFIX.len()) {
            Some(start) if start.eq_ignore_ascii_case(PREFIX) => &header[PREFIX.len()..],
            _ => header,
        };
        let mut tag = [0u8; TAG_LEN];
        hex::decode_to_slice(hex_text, &mut tag)
            .map_err(|_| WebhookError::MalformedHeader(HMAC_SIGNATURE_HEADER))?;
        hmac::verify(&self.key, body, &tag).map_err(|_| WebhookError::InvalidSignature)
    }
}

impl fmt::Debug for HmacVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HmacVerifier(***)")
    }
}

/// `sha256=<hex HMAC-SHA256(secret, body)>`, for senders (tests, the demo, relays).
pub fn sign_hmac(secret: &SecretString, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes());
    format!("{PREFIX}{}", hex::encode(hmac::sign(&key, body).as_ref()))
}

/// Checks an `x-smartsuite-signature` header against the raw body with `secret`.
pub fn verify_hmac(
    secret: &SecretString,
    header: Option<&str>,
    body: &[u8],
) -> Result<(), WebhookError> {
    HmacVerifier::new(secret)
        .map_err(|_| WebhookError::InvalidSignature)?
        .verify(header, body)
}
