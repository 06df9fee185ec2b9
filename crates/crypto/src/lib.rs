#![doc = include_str!("../README.md")]

mod config;
mod error;
mod key;
mod keyring;
mod password;
mod random;
mod secret;

pub use config::{
    DASHBOARD_PASSWORD_HASH, DATA_ENCRYPTION_KEY, DATA_ENCRYPTION_KEY_PREVIOUS, DashboardConfig,
    KeyConfig,
};
pub use error::CryptoError;
pub use key::{EncryptionKey, KEY_ID_LEN, KEY_LEN, KeyId};
pub use keyring::{Encrypted, IV_LEN, Keyring};
pub use password::PasswordHash;
pub use random::{generate_secret, random_bytes, try_random_bytes};
pub use secret::{SecretBytes, SecretString};
