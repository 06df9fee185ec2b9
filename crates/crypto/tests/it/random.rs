use std::collections::HashSet;

use suiteflow_crypto::{generate_secret, random_bytes, try_random_bytes};

#[test]
fn generated_secrets_are_url_safe_unpadded_and_distinct() {
    let mut seen = HashSet::new();
    for _ in 0..100 {
        let secret = generate_secret(32);
        let text = secret.expose();
        assert_eq!(text.len(), 43, "{text}");
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{text}"
        );
        assert!(seen.insert(text.to_string()), "repeated secret");
    }
    assert_eq!(generate_secret(0).expose(), "");
    assert_eq!(generate_secret(1).expose().len(), 2);
    assert_eq!(format!("{:?}", generate_secret(16)), "***");
}

#[test]
fn random_bytes_have_the_asked_length_and_vary() {
    assert_eq!(random_bytes(0).expose().len(), 0);
    let a = random_bytes(32);
    let b = try_random_bytes(32).unwrap();
    assert_eq!(a.expose().len(), 32);
    assert_ne!(a, b);
    // Not all one value (probability 2^-248 for a working generator).
    assert!(a.expose().iter().any(|&x| x != a.expose()[0]));
}
