use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use suiteflow_crypto::SecretString;
use suiteflow_webhook_security::{
    Scheme, StandardVerifier, Verifier, generate_webhook_secret, sign_hmac,
};

#[test]
fn hmac_secrets_are_url_safe_text_and_distinct() {
    let mut seen = HashSet::new();
    for _ in 0..50 {
        let secret = generate_webhook_secret(Scheme::Hmac);
        let text = secret.expose();
        assert!(text.len() >= 43, "{text}");
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{text}"
        );
        assert!(seen.insert(text.to_string()));
        assert!(Verifier::new(Scheme::Hmac, &secret).is_ok());
    }
}

#[test]
fn standard_secrets_are_whsec_and_24_to_32_random_bytes() {
    let mut seen = HashSet::new();
    for _ in 0..50 {
        let secret = generate_webhook_secret(Scheme::Standard);
        let key = secret.expose().strip_prefix("whsec_").unwrap();
        let bytes = STANDARD.decode(key).unwrap();
        assert!((24..=32).contains(&bytes.len()), "{} bytes", bytes.len());
        assert!(seen.insert(bytes));
        assert!(StandardVerifier::new(&secret).is_ok());
    }
}

#[test]
fn a_generated_secret_signs_and_verifies() {
    let secret = generate_webhook_secret(Scheme::Hmac);
    let header = sign_hmac(&secret, b"{}");
    let v = suiteflow_webhook_security::HmacVerifier::new(&secret).unwrap();
    assert_eq!(v.verify(Some(&header), b"{}"), Ok(()));
    assert!(
        v.verify(Some(&sign_hmac(&SecretString::new("x"), b"{}")), b"{}")
            .is_err()
    );
    assert_eq!(format!("{secret:?}"), "***");
}

#[test]
fn schemes_have_their_stored_names() {
    assert_eq!(Scheme::default(), Scheme::Hmac);
    for scheme in [Scheme::Hmac, Scheme::Standard] {
        assert_eq!(scheme.as_str().parse::<Scheme>(), Ok(scheme));
        assert_eq!(scheme.to_string(), scheme.as_str());
    }
    assert_eq!("hmac".parse::<Scheme>(), Ok(Scheme::Hmac));
    assert_eq!("standard".parse::<Scheme>(), Ok(Scheme::Standard));
    assert!("HMAC-SHA1".parse::<Scheme>().is_err());
}
