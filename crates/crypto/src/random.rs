//! Random bytes and random secrets from the operating system's generator.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};

use crate::{CryptoError, SecretBytes, SecretString};

/// `len` random bytes from the operating system, or [`CryptoError::Random`] if it fails.
pub fn try_random_bytes(len: usize) -> Result<SecretBytes, CryptoError> {
    let mut bytes = vec![0u8; len];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| CryptoError::Random)?;
    Ok(SecretBytes::new(bytes))
}

/// `len` random bytes from the operating system.
///
/// # Panics
///
/// If the operating system's random number generator fails, which on the platforms suiteflow
/// runs on does not happen; going on with predictable secrets would be worse than stopping.
pub fn random_bytes(len: usize) -> SecretBytes {
    match try_random_bytes(len) {
        Ok(bytes) => bytes,
        Err(_) => panic!("the operating system's random number generator failed"),
    }
}

/// A random secret of `len_bytes` random bytes, as URL-safe base64 without padding (so it can
/// sit in a URL path or a header as it is): 32 bytes give 43 characters.
///
/// # Panics
///
/// As [`random_bytes`], if the operating system's random number generator fails.
pub fn generate_secret(len_bytes: usize) -> SecretString {
    SecretString::new(URL_SAFE_NO_PAD.encode(random_bytes(len_bytes).expose()))
}
