use suiteflow_crypto::{CryptoError, PasswordHash};

#[test]
fn a_real_bcrypt_hash_parses_and_verifies() {
    let made = bcrypt::hash("correct horse", 4).unwrap();
    let hash = PasswordHash::parse(&made).unwrap();
    assert!(hash.verify("correct horse"));
    assert!(!hash.verify("correct horse "));
    assert!(!hash.verify(""));
    assert_eq!(hash.cost(), 4);
}

#[test]
fn the_2a_and_2y_prefixes_are_accepted_too() {
    let made = bcrypt::hash("pw", 4).unwrap();
    for prefix in ["$2a$", "$2y$"] {
        let hash = PasswordHash::parse(&format!("{prefix}{}", &made[4..])).unwrap();
        assert!(hash.verify("pw"), "{prefix}");
    }
}

#[test]
fn malformed_hashes_are_refused() {
    let good = bcrypt::hash("pw", 4).unwrap();
    let cases = [
        String::new(),
        "hunter2".to_string(),
        "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA".to_string(),
        good[..59].to_string(),
        format!("{good}x"),
        format!("$2x${}", &good[4..]),
        format!("$2b$03{}", &good[6..]),
        format!("$2b$32{}", &good[6..]),
        format!("$2b$4a{}", &good[6..]),
        format!("{}-{}", &good[..30], &good[31..]),
        format!("{}#{}", &good[..6], &good[7..]),
    ];
    for bad in cases {
        assert_eq!(
            PasswordHash::parse(&bad).unwrap_err(),
            CryptoError::InvalidPasswordHash,
            "{bad:?}"
        );
    }
}

#[test]
fn cost_bounds_are_inclusive() {
    let good = bcrypt::hash("pw", 4).unwrap();
    assert!(PasswordHash::parse(&format!("$2b$31{}", &good[6..])).is_ok());
    assert!(PasswordHash::parse(&good).is_ok());
}

#[test]
fn debug_hides_the_hash() {
    let made = bcrypt::hash("pw", 4).unwrap();
    let text = format!("{:?}", PasswordHash::parse(&made).unwrap());
    assert!(!text.contains(&made[7..20]), "{text}");
    assert!(text.contains("***"));
}
