//! Which sealed column a secret lives in, and the associated data that binds its ciphertext to
//! that column of that connection (DESIGN §5): a ciphertext copied to another row or column
//! does not open.

use crate::ConnectionId;

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
}
