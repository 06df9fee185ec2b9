use crate::key::KeyId;

/// Everything that can go wrong in this crate. No variant ever holds a key, a plaintext or a
/// password hash, so an error can be logged as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// A key given as text is not 64 hexadecimal characters.
    #[error("must be exactly 64 hexadecimal characters")]
    InvalidKey,
    /// A `DASHBOARD_PASSWORD_HASH` is not in bcrypt's format.
    #[error("must be a bcrypt hash ($2b$…)")]
    InvalidPasswordHash,
    /// A stored field is not standard base64.
    #[error("the stored {field} is not valid base64")]
    Base64 { field: &'static str },
    /// The stored IV does not decode to 12 bytes.
    #[error("the stored IV is not 12 bytes long")]
    IvLength,
    /// The stored ciphertext is shorter than its header and tag.
    #[error("the stored ciphertext is too short")]
    TooShort,
    /// The ciphertext was written by a format this version does not know.
    #[error("the stored ciphertext has unknown format version {0}")]
    UnsupportedVersion(u8),
    /// The value was sealed with a key that is neither the current nor the previous one.
    #[error(
        "the value was sealed with key {0}, which is neither DATA_ENCRYPTION_KEY nor DATA_ENCRYPTION_KEY_PREVIOUS"
    )]
    UnknownKey(KeyId),
    /// Authentication failed: wrong key, wrong associated data, or an altered ciphertext or IV.
    #[error("decryption failed: wrong key or associated data, or the stored value was altered")]
    Decrypt,
    /// Sealing failed (a plaintext beyond AES-GCM's limit).
    #[error("encryption failed")]
    Encrypt,
    /// The decrypted secret is not UTF-8 text.
    #[error("the decrypted secret is not UTF-8 text")]
    NotUtf8,
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}
