//! SmartSuite's notification pings carry no signature: the secret is a random token in the
//! notification URL. Only its SHA-256 is stored; the ingress compares hashes in constant time.

use ring::digest::{SHA256, digest};
use subtle::ConstantTimeEq;

/// SHA-256 (lowercase hex) of a notification URL token: what is stored for the connection.
pub fn url_token_hash(token: &str) -> String {
    hex::encode(digest(&SHA256, token.as_bytes()))
}

/// Whether `token` hashes to `stored_hash`, compared in constant time.
pub fn url_token_matches(token: &str, stored_hash: &str) -> bool {
    bool::from(
        url_token_hash(token)
            .as_bytes()
            .ct_eq(stored_hash.as_bytes()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_sha256_hex_and_only_the_token_matches() {
        assert_eq!(
            url_token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let stored = url_token_hash("the-token");
        assert!(url_token_matches("the-token", &stored));
        assert!(!url_token_matches("the-tokeN", &stored));
        assert!(!url_token_matches("", &stored));
        assert!(!url_token_matches("the-token", ""));
    }
}
