use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use suiteflow_crypto::{CryptoError, Encrypted, EncryptionKey, Keyring};

use crate::{KEY_A, KEY_B, key};

const AAD: &[u8] = b"6f1c2a4e-0000-4000-8000-000000000001/webflow_token";

fn ring() -> Keyring {
    Keyring::new(key(KEY_A), None)
}

fn plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

fn round_trip(len: usize) {
    let keyring = ring();
    let plain = plaintext(len);
    let sealed = keyring.encrypt_secret(&plain, AAD).unwrap();
    assert_eq!(STANDARD.decode(&sealed.iv_b64).unwrap().len(), 12);
    // format byte + key id + ciphertext + 16-byte tag
    assert_eq!(
        STANDARD.decode(&sealed.ciphertext_b64).unwrap().len(),
        1 + 4 + len + 16
    );
    let opened = keyring.decrypt_secret(&sealed, AAD).unwrap();
    assert_eq!(
        opened.expose(),
        plain.as_slice(),
        "round trip of {len} bytes"
    );
}

#[test]
fn round_trip_empty() {
    round_trip(0);
}

#[test]
fn round_trip_one_byte() {
    round_trip(1);
}

#[test]
fn round_trip_one_kib() {
    round_trip(1024);
}

#[test]
fn round_trip_one_mib() {
    round_trip(1024 * 1024);
}

#[test]
fn ciphertext_does_not_contain_the_plaintext() {
    let plain = b"a very recognisable secret value, repeated: a very recognisable secret value";
    let sealed = ring().encrypt_secret(plain, AAD).unwrap();
    let raw = STANDARD.decode(&sealed.ciphertext_b64).unwrap();
    assert!(!raw.windows(8).any(|w| plain.windows(8).any(|p| p == w)));
}

#[test]
fn decrypt_string_gives_text_and_refuses_non_utf8() {
    let keyring = ring();
    let sealed = keyring
        .encrypt_secret("héllo token".as_bytes(), AAD)
        .unwrap();
    assert_eq!(
        keyring.decrypt_string(&sealed, AAD).unwrap().expose(),
        "héllo token"
    );
    let binary = keyring.encrypt_secret(&[0xff, 0xfe, 0x00], AAD).unwrap();
    assert_eq!(
        keyring.decrypt_string(&binary, AAD).unwrap_err(),
        CryptoError::NotUtf8
    );
}

#[test]
fn two_encryptions_of_one_plaintext_differ() {
    let keyring = ring();
    let a = keyring.encrypt_secret(b"same secret", AAD).unwrap();
    let b = keyring.encrypt_secret(b"same secret", AAD).unwrap();
    assert_ne!(a.iv_b64, b.iv_b64);
    assert_ne!(a.ciphertext_b64, b.ciphertext_b64);
    assert_eq!(
        keyring.decrypt_secret(&a, AAD).unwrap(),
        keyring.decrypt_secret(&b, AAD).unwrap()
    );
}

fn flip(b64: &str, bit: usize) -> String {
    let mut bytes = STANDARD.decode(b64).unwrap();
    bytes[bit / 8] ^= 1 << (bit % 8);
    STANDARD.encode(bytes)
}

#[test]
fn every_flipped_bit_of_the_ciphertext_is_an_error() {
    let keyring = ring();
    let sealed = keyring.encrypt_secret(b"token-1234", AAD).unwrap();
    let bits = STANDARD.decode(&sealed.ciphertext_b64).unwrap().len() * 8;
    for bit in 0..bits {
        let damaged = Encrypted::new(flip(&sealed.ciphertext_b64, bit), sealed.iv_b64.clone());
        let err = keyring.decrypt_secret(&damaged, AAD).unwrap_err();
        // The format byte and key id are checked before the tag; every other bit fails the tag.
        match bit {
            0..=7 => assert!(
                matches!(err, CryptoError::UnsupportedVersion(_)),
                "bit {bit}: {err:?}"
            ),
            8..=39 => assert!(
                matches!(err, CryptoError::UnknownKey(_)),
                "bit {bit}: {err:?}"
            ),
            _ => assert_eq!(err, CryptoError::Decrypt, "bit {bit}"),
        }
    }
}

#[test]
fn every_flipped_bit_of_the_iv_is_an_error() {
    let keyring = ring();
    let sealed = keyring.encrypt_secret(b"token-1234", AAD).unwrap();
    for bit in 0..96 {
        let damaged = Encrypted::new(sealed.ciphertext_b64.clone(), flip(&sealed.iv_b64, bit));
        assert_eq!(
            keyring.decrypt_secret(&damaged, AAD).unwrap_err(),
            CryptoError::Decrypt,
            "bit {bit}"
        );
    }
}

#[test]
fn every_flipped_bit_of_the_associated_data_is_an_error() {
    let keyring = ring();
    let sealed = keyring.encrypt_secret(b"token-1234", AAD).unwrap();
    for bit in 0..AAD.len() * 8 {
        let mut aad = AAD.to_vec();
        aad[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(
            keyring.decrypt_secret(&sealed, &aad).unwrap_err(),
            CryptoError::Decrypt,
            "bit {bit}"
        );
    }
    assert_eq!(
        keyring.decrypt_secret(&sealed, b"").unwrap_err(),
        CryptoError::Decrypt
    );
    let mut longer = AAD.to_vec();
    longer.push(0);
    assert_eq!(
        keyring.decrypt_secret(&sealed, &longer).unwrap_err(),
        CryptoError::Decrypt
    );
}

#[test]
fn damaged_encodings_are_errors() {
    let keyring = ring();
    let sealed = keyring.encrypt_secret(b"token", AAD).unwrap();
    let with = |ct: &str, iv: &str| {
        keyring
            .decrypt_secret(&Encrypted::new(ct, iv), AAD)
            .unwrap_err()
    };

    assert_eq!(
        with("not base64!", &sealed.iv_b64),
        CryptoError::Base64 {
            field: "ciphertext"
        }
    );
    assert_eq!(
        with(&sealed.ciphertext_b64, "@@@@"),
        CryptoError::Base64 { field: "IV" }
    );
    assert_eq!(with(&sealed.ciphertext_b64, ""), CryptoError::IvLength);
    assert_eq!(
        with(&sealed.ciphertext_b64, &STANDARD.encode([0u8; 11])),
        CryptoError::IvLength
    );
    assert_eq!(
        with(&sealed.ciphertext_b64, &STANDARD.encode([0u8; 16])),
        CryptoError::IvLength
    );
    assert_eq!(with("", &sealed.iv_b64), CryptoError::TooShort);
    let raw = STANDARD.decode(&sealed.ciphertext_b64).unwrap();
    assert_eq!(
        with(&STANDARD.encode(&raw[..20]), &sealed.iv_b64),
        CryptoError::TooShort
    );
    // One byte short of the minimum: the tag is cut.
    assert_eq!(
        with(&STANDARD.encode(&raw[..raw.len() - 1]), &sealed.iv_b64),
        CryptoError::Decrypt
    );
    let mut longer = raw.clone();
    longer.push(0);
    assert_eq!(
        with(&STANDARD.encode(&longer), &sealed.iv_b64),
        CryptoError::Decrypt
    );
}

#[test]
fn another_key_cannot_open_it() {
    let sealed = ring().encrypt_secret(b"token", AAD).unwrap();
    let other = Keyring::new(key(KEY_B), None);
    let err = other.decrypt_secret(&sealed, AAD).unwrap_err();
    assert_eq!(err, CryptoError::UnknownKey(key(KEY_A).id()));
    // The error names the key id, never the key.
    let text = err.to_string();
    assert!(!text.to_lowercase().contains(&KEY_A[..16]), "{text}");
}

#[test]
fn the_key_id_is_inside_the_ciphertext() {
    let sealed = ring().encrypt_secret(b"token", AAD).unwrap();
    assert_eq!(sealed.key_id().unwrap(), key(KEY_A).id());
    let raw = STANDARD.decode(&sealed.ciphertext_b64).unwrap();
    assert_eq!(raw[0], 1, "format version");
    assert_eq!(&raw[1..5], key(KEY_A).id().as_bytes());
}

#[test]
fn previous_key_opens_and_reseals_with_the_current() {
    let before = Keyring::new(key(KEY_A), None);
    let stored = before.encrypt_secret(b"smartsuite-api-key", AAD).unwrap();

    let after = Keyring::new(key(KEY_B), Some(key(KEY_A)));
    assert_eq!(after.current_key_id(), key(KEY_B).id());
    assert_eq!(after.previous_key_id(), Some(key(KEY_A).id()));
    assert!(after.needs_rotation(&stored));
    assert_eq!(
        after.decrypt_secret(&stored, AAD).unwrap().expose(),
        b"smartsuite-api-key"
    );

    let resealed = after.reseal(&stored, AAD).unwrap();
    assert_eq!(resealed.key_id().unwrap(), key(KEY_B).id());
    assert!(!after.needs_rotation(&resealed));
    assert_ne!(resealed.iv_b64, stored.iv_b64);

    // Once the previous key is dropped, the resealed value still opens and the old one does not.
    let later = Keyring::new(key(KEY_B), None);
    assert_eq!(
        later.decrypt_secret(&resealed, AAD).unwrap().expose(),
        b"smartsuite-api-key"
    );
    assert_eq!(
        later.decrypt_secret(&stored, AAD).unwrap_err(),
        CryptoError::UnknownKey(key(KEY_A).id())
    );
    // Resealing keeps the associated data: the wrong one fails.
    assert_eq!(
        after.reseal(&stored, b"other").unwrap_err(),
        CryptoError::Decrypt
    );
}

#[test]
fn the_previous_key_never_seals() {
    let keyring = Keyring::new(key(KEY_B), Some(key(KEY_A)));
    for _ in 0..8 {
        let sealed = keyring.encrypt_secret(b"x", AAD).unwrap();
        assert_eq!(sealed.key_id().unwrap(), key(KEY_B).id());
    }
}

#[test]
fn damaged_values_need_rotation_and_reseal_reports_them() {
    let keyring = ring();
    let junk = Encrypted::new("@@", "@@");
    assert!(keyring.needs_rotation(&junk));
    assert!(keyring.reseal(&junk, AAD).is_err());
}

#[test]
fn keys_parse_from_64_hex_chars_only() {
    assert!(EncryptionKey::from_hex(KEY_A).is_ok());
    assert!(EncryptionKey::from_hex(KEY_B).is_ok(), "upper case");
    assert!(
        EncryptionKey::from_hex(&format!("{KEY_A}\n")).is_ok(),
        "trailing newline of a secret file"
    );
    for bad in [
        &KEY_A[..63],
        &format!("{KEY_A}0"),
        &KEY_A.replace('0', "g"),
        "",
        &format!("+{}", &KEY_A[1..]),
    ] {
        assert_eq!(
            EncryptionKey::from_hex(bad).unwrap_err(),
            CryptoError::InvalidKey,
            "{bad:?}"
        );
    }
    // Multi-byte characters that make the byte length 64 are refused, not sliced.
    let tricky = format!("é{}", &KEY_A[2..]);
    assert_eq!(tricky.len(), 64);
    assert_eq!(
        EncryptionKey::from_hex(&tricky).unwrap_err(),
        CryptoError::InvalidKey
    );
}

#[test]
fn key_ids_differ_per_key_and_are_stable() {
    assert_eq!(key(KEY_A).id(), key(KEY_A).id());
    assert_ne!(key(KEY_A).id(), key(KEY_B).id());
    assert_eq!(key(KEY_A).id().to_string().len(), 8);
    let generated = EncryptionKey::generate().unwrap();
    assert_eq!(key(generated.to_hex().expose()).id(), generated.id());
    assert_ne!(generated.id(), EncryptionKey::generate().unwrap().id());
}

#[test]
fn debug_shows_no_key_material() {
    let k = key(KEY_A);
    let keyring = Keyring::new(key(KEY_A), Some(key(KEY_B)));
    for text in [
        format!("{k:?}"),
        format!("{keyring:?}"),
        format!("{keyring:#?}"),
    ] {
        let lower = text.to_lowercase();
        for secret in [KEY_A, KEY_B] {
            let secret = secret.to_lowercase();
            // No 8-character run of either key's hex appears.
            for start in 0..=secret.len() - 8 {
                assert!(!lower.contains(&secret[start..start + 8]), "{text}");
            }
        }
        assert!(text.contains(&key(KEY_A).id().to_string()), "{text}");
    }
    assert!(format!("{k:?}").contains("***"));
}

#[test]
fn a_fingerprint_names_a_credential_without_revealing_it() {
    let key = EncryptionKey::from_bytes([7u8; 32]);
    let ring = Keyring::new(key.clone(), None);
    let token = "wf-site-token-1234567890";
    let fp = ring.fingerprint(token);
    assert_eq!(fp.len(), 32);
    assert!(fp.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(!fp.contains("1234567890"));
    assert_eq!(ring.fingerprint(token), fp, "stable");
    assert_ne!(ring.fingerprint("another-token"), fp);
    // Another data key names it differently; during a rotation the previous name is known.
    let other = EncryptionKey::from_bytes([8u8; 32]);
    let rotated = Keyring::new(other, Some(key));
    assert_ne!(rotated.fingerprint(token), fp);
    assert_eq!(rotated.previous_fingerprint(token), Some(fp));
    assert_eq!(ring.previous_fingerprint(token), None);
}

#[test]
fn derived_keys_depend_on_the_data_key_and_the_purpose() {
    let key = |hex: &str| suiteflow_crypto::EncryptionKey::from_hex(hex).unwrap();
    let a = Keyring::new(key(&"11".repeat(32)), None);
    let a_again = Keyring::new(key(&"11".repeat(32)), None);
    let b = Keyring::new(key(&"22".repeat(32)), None);
    assert_eq!(
        a.derive_key("console session"),
        a_again.derive_key("console session")
    );
    assert_ne!(
        a.derive_key("console session"),
        b.derive_key("console session")
    );
    assert_ne!(
        a.derive_key("console session"),
        a.derive_key("something else")
    );
    assert_ne!(a.derive_key("console session"), [0u8; 64]);
}
