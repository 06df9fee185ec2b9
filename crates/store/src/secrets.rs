//! Which sealed column a secret lives in, and the associated data that binds its ciphertext to
//! that column of that connection: a ciphertext copied to another row or column
//! does not open.

use suiteflow_crypto::{CryptoError, Encrypted, Keyring, SecretString};

use crate::{ConnectionId, Sealed};

/// A sealed secret column of `connections`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretColumn {
    SmartSuiteApiKey,
    WebflowToken,
    WebhookSecret,
}

impl SecretColumn {
    pub fn name(self) -> &'static str {
        match self {
            Self::SmartSuiteApiKey => "smartsuite_api_key",
            Self::WebflowToken => "webflow_token",
            Self::WebhookSecret => "webhook_secret",
        }
    }

    /// The associated data for this column of connection `id`.
    pub fn aad(self, id: ConnectionId) -> Vec<u8> {
        format!("suiteflow:connections:{}:{}", id.0, self.name()).into_bytes()
    }

    /// Seals `plaintext` for this column of connection `id` with the current key.
    pub fn seal(
        self,
        keys: &Keyring,
        id: ConnectionId,
        plaintext: &str,
    ) -> Result<Sealed, CryptoError> {
        let e = keys.encrypt_secret(plaintext.as_bytes(), &self.aad(id))?;
        Ok(Sealed {
            ciphertext: e.ciphertext_b64,
            iv: e.iv_b64,
        })
    }

    /// Opens this column's sealed value of connection `id` (current or previous key).
    pub fn open(
        self,
        keys: &Keyring,
        id: ConnectionId,
        sealed: &Sealed,
    ) -> Result<SecretString, CryptoError> {
        let encrypted = Encrypted::new(sealed.ciphertext.clone(), sealed.iv.clone());
        keys.decrypt_string(&encrypted, &self.aad(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keyring {
        Keyring::new(
            suiteflow_crypto::EncryptionKey::from_hex(&"ab".repeat(32)).unwrap(),
            None,
        )
    }

    #[test]
    fn a_sealed_secret_opens_only_in_its_own_column_and_connection() {
        let keys = keys();
        let id = ConnectionId(uuid::Uuid::new_v4());
        let sealed = SecretColumn::WebflowToken
            .seal(&keys, id, "wf-token")
            .unwrap();
        assert_eq!(
            SecretColumn::WebflowToken
                .open(&keys, id, &sealed)
                .unwrap()
                .expose(),
            "wf-token"
        );
        assert!(
            SecretColumn::WebhookSecret
                .open(&keys, id, &sealed)
                .is_err(),
            "another column"
        );
        let other = ConnectionId(uuid::Uuid::new_v4());
        assert!(
            SecretColumn::WebflowToken
                .open(&keys, other, &sealed)
                .is_err(),
            "another connection"
        );
    }
}
