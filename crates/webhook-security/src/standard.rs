//! The `standard` scheme: Standard Webhooks (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64> …`, secret `whsec_<base64>`, content `id.timestamp.body`).

use std::fmt;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ring::hmac;
use subtle::ConstantTimeEq as _;
use suiteflow_crypto::SecretString;

use crate::timestamp::parse_timestamp;
use crate::{SecretError, TimestampWindow, WebhookError};

/// The header carrying the message id (also the idempotency key).
pub const WEBHOOK_ID_HEADER: &str = "webhook-id";
/// The header carrying the send time in unix seconds.
pub const WEBHOOK_TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// The header carrying one or more space-separated `v1,<base64>` signatures.
pub const WEBHOOK_SIGNATURE_HEADER: &str = "webhook-signature";

/// The prefix of a Standard Webhooks secret.
pub const SECRET_PREFIX: &str = "whsec_";

const VERSION: &str = "v1";
const TAG_LEN: usize = 32;

/// Base64 with or without padding (senders differ).
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The three headers of a Standard Webhooks request, each `None` when absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StandardHeaders<'a> {
    pub id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

impl<'a> StandardHeaders<'a> {
    /// Reads the three headers through `header(name)` (names are lowercase).
    pub fn from_fn(header: impl Fn(&str) -> Option<&'a str>) -> Self {
        Self {
            id: header(WEBHOOK_ID_HEADER),
            timestamp: header(WEBHOOK_TIMESTAMP_HEADER),
            signature: header(WEBHOOK_SIGNATURE_HEADER),
        }
    }
}

/// A Standard Webhooks message that passed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardMessage {
    /// The `webhook-id`, the idempotency key of the message.
    pub id: String,
    /// The `webhook-timestamp`, unix seconds.
    pub timestamp: i64,
}

/// Verifies (and makes) Standard Webhooks signatures. `Debug` shows no key.
#[derive(Clone)]
pub struct StandardVerifier {
    key: hmac::Key,
}

impl StandardVerifier {
    /// `whsec_<base64>` (the prefix is optional). An empty or prefix-only secret, or one that is
    /// not base64, is refused.
    pub fn new(secret: &SecretString) -> Result<Self, SecretError> {
        let text = secret.expose().trim();
        let text = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
        if text.is_empty() {
            return Err(SecretError::Empty);
        }
        let key = LENIENT_BASE64
            .decode(text)
            .map_err(|_| SecretError::NotBase64)?;
        if key.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &key),
        })
    }

    fn tag(&self, id: &str, timestamp: &str, body: &[u8]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(id.as_bytes());
        ctx.update(b".");
        ctx.update(timestamp.as_bytes());
        ctx.update(b".");
        ctx.update(body);
        ctx.sign()
    }

    /// `v1,<base64>`: the value of [`WEBHOOK_SIGNATURE_HEADER`] for one message.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = self.tag(id, &timestamp.to_string(), body);
        format!("{VERSION},{}", STANDARD.encode(tag.as_ref()))
    }

    /// Checks the signature and the timestamp window (`now_unix_secs` is the current time).
    /// Order: all three headers present, the timestamp well formed, the signature, then the
    /// window, so a forged request is refused for its signature whatever its timestamp says.
    pub fn verify(
        &self,
        headers: &StandardHeaders<'_>,
        body: &[u8],
        window: &TimestampWindow,
        now_unix_secs: i64,
    ) -> Result<StandardMessage, WebhookError> {
        let message = self.verify_ignoring_timestamp(headers, body)?;
        window.check_value(message.timestamp, now_unix_secs)?;
        Ok(message)
    }

    /// Checks the signature only (the timestamp must still be well formed, as it is signed).
    /// For replaying stored messages and for test vectors with historical timestamps.
    pub fn verify_ignoring_timestamp(
        &self,
        headers: &StandardHeaders<'_>,
        body: &[u8],
    ) -> Result<StandardMessage, WebhookError> {
        let id = present(headers.id, WEBHOOK_ID_HEADER)?;
        let timestamp_text = present(headers.timestamp, WEBHOOK_TIMESTAMP_HEADER)?;
        let signatures = present(headers.signature, WEBHOOK_SIGNATURE_HEADER)?;
        let timestamp = parse_timestamp(timestamp_text)?;

        let expected = self.tag(id, timestamp_text, body);
        // Every v1 entry is compared (in constant time), so the time taken does not depend
        // on which entry matched. Other versions and undecodable entries never match.
        let mut matched = false;
        for entry in signatures.split_ascii_whitespace() {
            let Some((VERSION, encoded)) = entry.split_once(',') else {
                continue;
            };
            let Ok(candidate) = LENIENT_BASE64.decode(encoded) else {
                continue;
            };
            if candidate.len() == TAG_LEN && bool::from(candidate.ct_eq(expected.as_ref())) {
                matched = true;
            }
        }
        if matched {
            Ok(StandardMessage {
                id: id.to_string(),
                timestamp,
            })
        } else {
            Err(WebhookError::InvalidSignature)
        }
    }
}

impl fmt::Debug for StandardVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StandardVerifier(***)")
    }
}

fn present<'a>(value: Option<&'a str>, name: &'static str) -> Result<&'a str, WebhookError> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(WebhookError::MissingHeader(name))
}

/// `v1,<base64>` for one message, for senders (tests, the demo, relays).
pub fn sign_standard(
    secret: &SecretString,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, SecretError> {
    Ok(StandardVerifier::new(secret)?.sign(id, timestamp, body))
}
