//! The dashboard password hash (`DASHBOARD_PASSWORD_HASH`).

use std::fmt;

use crate::{CryptoError, SecretString};

/// A bcrypt hash such as `$2b$12$…`, checked for format when parsed. Its `Debug` is `***`: a
/// hash is not the password, but it can be attacked offline, so it is kept out of logs too.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(SecretString);

impl PasswordHash {
    /// Accepts `$2a$`, `$2b$` or `$2y$`, a two-digit cost from 04 to 31, `$`, then 53 characters
    /// of bcrypt's base64 alphabet (22 of salt, 31 of hash). Surrounding whitespace is ignored.
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        let text = text.trim();
        let bytes = text.as_bytes();
        let well_formed = bytes.len() == 60
            && matches!(&bytes[..4], b"$2a$" | b"$2b$" | b"$2y$")
            && bytes[4].is_ascii_digit()
            && bytes[5].is_ascii_digit()
            && (4..=31).contains(&(u32::from(bytes[4] - b'0') * 10 + u32::from(bytes[5] - b'0')))
            && bytes[6] == b'$'
            && bytes[7..]
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/');
        if well_formed {
            Ok(Self(SecretString::new(text)))
        } else {
            Err(CryptoError::InvalidPasswordHash)
        }
    }

    /// Whether `password` matches (bcrypt compares in constant time). A hash that bcrypt
    /// cannot read matches nothing.
    pub fn verify(&self, password: &str) -> bool {
        bcrypt::verify(password, self.0.expose()).unwrap_or(false)
    }

    /// The bcrypt cost the hash was made with.
    pub fn cost(&self) -> u32 {
        self.0.expose()[4..6].parse().unwrap_or(0)
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}
