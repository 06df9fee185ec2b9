//! Data encryption keys and their short public ids.

use std::fmt;

use ring::digest;

use crate::random::try_random_bytes;
use crate::{CryptoError, SecretString};

/// Length of an AES-256 key in bytes.
pub const KEY_LEN: usize = 32;

/// Length of a [`KeyId`] in bytes.
pub const KEY_ID_LEN: usize = 4;

/// A short public fingerprint of an [`EncryptionKey`]: the first four bytes of the SHA-256 of
/// `"suiteflow key id\0"` followed by the key. It is stored inside every ciphertext so the right
/// key can be picked after a rotation; it says nothing useful about the key itself.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; KEY_ID_LEN]);

impl KeyId {
    pub const fn from_bytes(bytes: [u8; KEY_ID_LEN]) -> Self {
        Self(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; KEY_ID_LEN] {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// A 256-bit data encryption key (`DATA_ENCRYPTION_KEY`). Its `Debug` shows only its id.
#[derive(Clone)]
pub struct EncryptionKey {
    bytes: [u8; KEY_LEN],
    id: KeyId,
}

impl EncryptionKey {
    /// Parses exactly 64 hexadecimal characters (either case; surrounding whitespace, such as
    /// the newline of a mounted secret file, is ignored).
    pub fn from_hex(text: &str) -> Result<Self, CryptoError> {
        let text = text.trim();
        if text.len() != KEY_LEN * 2 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(CryptoError::InvalidKey);
        }
        let mut bytes = [0u8; KEY_LEN];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| CryptoError::InvalidKey)?;
        Ok(Self::from_bytes(bytes))
    }

    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(b"suiteflow key id\0");
        ctx.update(&bytes);
        let digest = ctx.finish();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest.as_ref()[..KEY_ID_LEN]);
        Self {
            bytes,
            id: KeyId(id),
        }
    }

    /// A fresh random key, for `suiteflow` to print when an operator sets up or rotates keys.
    pub fn generate() -> Result<Self, CryptoError> {
        let random = try_random_bytes(KEY_LEN)?;
        let mut bytes = [0u8; KEY_LEN];
        bytes.copy_from_slice(random.expose());
        Ok(Self::from_bytes(bytes))
    }

    /// The key's short public id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The key as 64 lowercase hex characters, the form `DATA_ENCRYPTION_KEY` takes.
    pub fn to_hex(&self) -> SecretString {
        SecretString::new(hex::encode(self.bytes))
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("id", &self.id)
            .field("key", &format_args!("***"))
            .finish()
    }
}
