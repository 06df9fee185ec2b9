//! Integration tests of suiteflow-crypto: one binary, one module per area.
// Test helpers outside `#[test]` functions unwrap too; a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod keyring;
mod password;
mod random;
mod settings;

use suiteflow_crypto::EncryptionKey;

pub const KEY_A: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
pub const KEY_B: &str = "F0E1D2C3B4A5968778695A4B3C2D1E0FF0E1D2C3B4A5968778695A4B3C2D1E0F";

pub fn key(hex: &str) -> EncryptionKey {
    EncryptionKey::from_hex(hex).unwrap()
}
