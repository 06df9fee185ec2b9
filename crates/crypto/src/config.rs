//! Settings parts of this crate (see `suiteflow-settings`).

use suiteflow_settings::Reader;

use crate::{EncryptionKey, Keyring, PasswordHash};

/// The variable holding the key that seals and opens secrets.
pub const DATA_ENCRYPTION_KEY: &str = "DATA_ENCRYPTION_KEY";
/// The variable holding the key of before a rotation: it still opens, it never seals.
pub const DATA_ENCRYPTION_KEY_PREVIOUS: &str = "DATA_ENCRYPTION_KEY_PREVIOUS";
/// The variable holding the operator dashboard's bcrypt password hash.
pub const DASHBOARD_PASSWORD_HASH: &str = "DASHBOARD_PASSWORD_HASH";

/// The settings part for `DATA_ENCRYPTION_KEY` (required) and `DATA_ENCRYPTION_KEY_PREVIOUS`
/// (optional): the [`Keyring`] itself, read with `KeyConfig::read`.
pub type KeyConfig = Keyring;

fn key(raw: &str) -> Result<EncryptionKey, String> {
    EncryptionKey::from_hex(raw).map_err(|e| e.to_string())
}

impl Keyring {
    /// Reads `DATA_ENCRYPTION_KEY` and `DATA_ENCRYPTION_KEY_PREVIOUS`, reporting a problem that
    /// names the variable and the rule (never the value) for each one that is missing or bad.
    /// There is no default: suiteflow refuses to start rather than store secrets unencrypted.
    pub fn read(r: &mut Reader<'_>) -> Option<Self> {
        let current = r.required(DATA_ENCRYPTION_KEY, key);
        let previous = r.optional(DATA_ENCRYPTION_KEY_PREVIOUS, key);
        Some(Keyring::new(current?, previous?))
    }
}

/// The settings part for the optional `DASHBOARD_PASSWORD_HASH`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DashboardConfig {
    pub password_hash: Option<PasswordHash>,
}

impl DashboardConfig {
    pub fn read(r: &mut Reader<'_>) -> Option<Self> {
        let password_hash = r.optional(DASHBOARD_PASSWORD_HASH, |raw| {
            PasswordHash::parse(raw).map_err(|e| e.to_string())
        })?;
        Some(Self { password_hash })
    }
}
