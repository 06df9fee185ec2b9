//! The two schemes behind one verifier, and new secrets for each.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use suiteflow_crypto::{SecretString, generate_secret, random_bytes};

use crate::hmac_scheme::{HMAC_SIGNATURE_HEADER, HMAC_TIMESTAMP_HEADER, HmacVerifier};
use crate::standard::{SECRET_PREFIX, StandardHeaders, StandardVerifier};
use crate::{SecretError, TimestampWindow, UnknownScheme, WebhookError};

/// How a connection's pushes are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scheme {
    /// `x-smartsuite-signature: sha256=<hex>`.
    #[default]
    Hmac,
    /// Standard Webhooks.
    Standard,
}

impl Scheme {
    /// `hmac` or `standard`, as stored on a connection.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Hmac => "hmac",
            Scheme::Standard => "standard",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scheme {
    type Err = UnknownScheme;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "hmac" => Ok(Scheme::Hmac),
            "standard" => Ok(Scheme::Standard),
            _ => Err(UnknownScheme),
        }
    }
}

/// A new random secret for a connection using `scheme`: for `hmac`, 43 characters of URL-safe
/// base64 (32 random bytes); for `standard`, `whsec_` and the standard base64 of 24 random bytes.
///
/// # Panics
///
/// If the operating system's random number generator fails (see `suiteflow_crypto::random_bytes`).
pub fn generate_webhook_secret(scheme: Scheme) -> SecretString {
    match scheme {
        Scheme::Hmac => generate_secret(32),
        Scheme::Standard => SecretString::new(format!(
            "{SECRET_PREFIX}{}",
            STANDARD.encode(random_bytes(24).expose())
        )),
    }
}

/// What a verified push carries besides its body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verified {
    /// `webhook-id` (`standard`); `hmac` senders put theirs in `x-idempotency-key`.
    pub webhook_id: Option<String>,
    /// The checked timestamp: always for `standard`, when `x-smartsuite-timestamp` was sent
    /// for `hmac`.
    pub timestamp: Option<i64>,
}

/// A connection's verifier: its scheme and its secret, prepared once.
#[derive(Debug, Clone)]
pub enum Verifier {
    Hmac(HmacVerifier),
    Standard(StandardVerifier),
}

impl Verifier {
    pub fn new(scheme: Scheme, secret: &SecretString) -> Result<Self, SecretError> {
        Ok(match scheme {
            Scheme::Hmac => Verifier::Hmac(HmacVerifier::new(secret)?),
            Scheme::Standard => Verifier::Standard(StandardVerifier::new(secret)?),
        })
    }

    pub fn scheme(&self) -> Scheme {
        match self {
            Verifier::Hmac(_) => Scheme::Hmac,
            Verifier::Standard(_) => Scheme::Standard,
        }
    }

    /// Verifies one request: `header(name)` returns a header's value (names are lowercase),
    /// `body` is the raw body, `now_unix_secs` the current time. For `hmac`, the signature is
    /// checked first, then `x-smartsuite-timestamp` against the window when it is present.
    pub fn verify<'h>(
        &self,
        header: impl Fn(&str) -> Option<&'h str>,
        body: &[u8],
        window: &TimestampWindow,
        now_unix_secs: i64,
    ) -> Result<Verified, WebhookError> {
        match self {
            Verifier::Hmac(verifier) => {
                verifier.verify(header(HMAC_SIGNATURE_HEADER), body)?;
                let timestamp = match header(HMAC_TIMESTAMP_HEADER).filter(|t| !t.trim().is_empty())
                {
                    Some(text) => Some(window.check(text, now_unix_secs)?),
                    None => None,
                };
                Ok(Verified {
                    webhook_id: None,
                    timestamp,
                })
            }
            Verifier::Standard(verifier) => {
                let headers = StandardHeaders::from_fn(header);
                let message = verifier.verify(&headers, body, window, now_unix_secs)?;
                Ok(Verified {
                    webhook_id: Some(message.id),
                    timestamp: Some(message.timestamp),
                })
            }
        }
    }
}
