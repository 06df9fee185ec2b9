use ring::hmac as ring_hmac;
use suiteflow_crypto::SecretString;
use suiteflow_webhook_security::{
    HMAC_SIGNATURE_HEADER, HmacVerifier, Scheme, SecretError, TimestampError, TimestampWindow,
    Verifier, WebhookError, sign_hmac, verify_hmac,
};

const SECRET: &str = "Zx9-secret_from-suiteflow-connection-create";
const BODY: &[u8] =
    br#"{"event_type":"record_updated","record_id":"64f0c0ffee","data":{"title":"Chair"}}"#;

fn secret() -> SecretString {
    SecretString::new(SECRET)
}

fn verifier() -> HmacVerifier {
    HmacVerifier::new(&secret()).unwrap()
}

/// The HMAC computed independently of the crate (ring directly, key = the secret's UTF-8 bytes).
fn reference_hex(secret: &str, body: &[u8]) -> String {
    let key = ring_hmac::Key::new(ring_hmac::HMAC_SHA256, secret.as_bytes());
    hex::encode(ring_hmac::sign(&key, body).as_ref())
}

#[test]
fn a_known_answer() {
    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    let sig = sign_hmac(&SecretString::new("Jefe"), b"what do ya want for nothing?");
    assert_eq!(
        sig,
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[test]
fn sign_matches_the_reference_and_the_verifier() {
    let expected = format!("sha256={}", reference_hex(SECRET, BODY));
    assert_eq!(sign_hmac(&secret(), BODY), expected);
    assert_eq!(verifier().sign(BODY), expected);
}

#[test]
fn sha256_prefix_is_accepted() {
    let header = format!("sha256={}", reference_hex(SECRET, BODY));
    assert_eq!(verifier().verify(Some(&header), BODY), Ok(()));
    assert_eq!(verify_hmac(&secret(), Some(&header), BODY), Ok(()));
    let upper_prefix = format!("SHA256={}", reference_hex(SECRET, BODY));
    assert_eq!(verifier().verify(Some(&upper_prefix), BODY), Ok(()));
}

#[test]
fn bare_hex_is_accepted() {
    assert_eq!(
        verifier().verify(Some(&reference_hex(SECRET, BODY)), BODY),
        Ok(())
    );
}

#[test]
fn uppercase_hex_is_accepted() {
    let upper = reference_hex(SECRET, BODY).to_uppercase();
    assert_eq!(verifier().verify(Some(&upper), BODY), Ok(()));
    assert_eq!(
        verifier().verify(Some(&format!("sha256={upper}")), BODY),
        Ok(())
    );
}

#[test]
fn surrounding_whitespace_is_ignored() {
    let header = format!("  sha256={}\t", reference_hex(SECRET, BODY));
    assert_eq!(verifier().verify(Some(&header), BODY), Ok(()));
}

#[test]
fn the_key_is_the_secret_text_not_decoded() {
    // A secret that happens to be hex or base64 is still used as its UTF-8 bytes.
    let secret = "deadbeef";
    let sig = sign_hmac(&SecretString::new(secret), BODY);
    assert_eq!(sig, format!("sha256={}", reference_hex("deadbeef", BODY)));
    assert_ne!(
        sig,
        format!(
            "sha256={}",
            hex::encode(
                ring_hmac::sign(
                    &ring_hmac::Key::new(ring_hmac::HMAC_SHA256, &[0xde, 0xad, 0xbe, 0xef]),
                    BODY
                )
                .as_ref()
            )
        )
    );
}

#[test]
fn wrong_secret_is_invalid() {
    let header = sign_hmac(&SecretString::new("another-secret"), BODY);
    assert_eq!(
        verifier().verify(Some(&header), BODY),
        Err(WebhookError::InvalidSignature)
    );
    // One character more or less is another secret too.
    let header = sign_hmac(&SecretString::new(&SECRET[..SECRET.len() - 1]), BODY);
    assert_eq!(
        verifier().verify(Some(&header), BODY),
        Err(WebhookError::InvalidSignature)
    );
}

#[test]
fn body_changed_by_one_byte_is_invalid() {
    let header = sign_hmac(&secret(), BODY);
    for i in [0, BODY.len() / 2, BODY.len() - 1] {
        let mut body = BODY.to_vec();
        body[i] ^= 0x01;
        assert_eq!(
            verifier().verify(Some(&header), &body),
            Err(WebhookError::InvalidSignature),
            "byte {i}"
        );
    }
    let mut longer = BODY.to_vec();
    longer.push(b' ');
    assert_eq!(
        verifier().verify(Some(&header), &longer),
        Err(WebhookError::InvalidSignature)
    );
    assert_eq!(
        verifier().verify(Some(&header), &BODY[..BODY.len() - 1]),
        Err(WebhookError::InvalidSignature)
    );
}

#[test]
fn a_signature_changed_by_one_digit_is_invalid() {
    let hex = reference_hex(SECRET, BODY);
    let flipped: String = hex
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i == 10 {
                if c == '0' { '1' } else { '0' }
            } else {
                c
            }
        })
        .collect();
    assert_eq!(
        verifier().verify(Some(&flipped), BODY),
        Err(WebhookError::InvalidSignature)
    );
}

#[test]
fn empty_or_missing_header_is_missing() {
    for header in [None, Some(""), Some("   ")] {
        assert_eq!(
            verifier().verify(header, BODY),
            Err(WebhookError::MissingHeader(HMAC_SIGNATURE_HEADER)),
            "{header:?}"
        );
    }
}

#[test]
fn garbage_headers_are_malformed() {
    let hex = reference_hex(SECRET, BODY);
    let cases = [
        "sha256=".to_string(),
        "sha256=not-hex-at-all".to_string(),
        "garbage".to_string(),
        format!("sha1={hex}"),
        format!("sha256={}", &hex[..63]),
        format!("sha256={}", &hex[..62]),
        format!("sha256={hex}00"),
        format!("sha256= {hex}"),
        format!("sha256={hex},v1=abc"),
        "é".repeat(40),
    ];
    for header in &cases {
        assert_eq!(
            verifier().verify(Some(header), BODY),
            Err(WebhookError::MalformedHeader(HMAC_SIGNATURE_HEADER)),
            "{header:?}"
        );
    }
}

#[test]
fn errors_never_contain_the_secret_or_signature() {
    let header = sign_hmac(&SecretString::new("wrong"), BODY);
    let errors = [
        verifier().verify(Some(&header), BODY).unwrap_err(),
        verifier().verify(Some("sha256=zz"), BODY).unwrap_err(),
        verifier().verify(None, BODY).unwrap_err(),
    ];
    for err in errors {
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(
                !text.contains(SECRET) && !text.contains(&header[7..20]),
                "{text}"
            );
        }
    }
    assert_eq!(format!("{:?}", verifier()), "HmacVerifier(***)");
}

#[test]
fn an_empty_secret_is_refused() {
    assert_eq!(
        HmacVerifier::new(&SecretString::new("")).unwrap_err(),
        SecretError::Empty
    );
    assert_eq!(
        HmacVerifier::new(&SecretString::new("  ")).unwrap_err(),
        SecretError::Empty
    );
}

/// A header lookup over fixed pairs, as the ingress builds from a request.
fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
    move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
}

#[test]
fn the_verifier_checks_the_optional_timestamp() {
    let v = Verifier::new(Scheme::Hmac, &secret()).unwrap();
    assert_eq!(v.scheme(), Scheme::Hmac);
    let sig = sign_hmac(&secret(), BODY);
    let window = TimestampWindow::default();
    let now = 1_700_000_000;

    let verified = v
        .verify(
            lookup(&[("x-smartsuite-signature", &sig)]),
            BODY,
            &window,
            now,
        )
        .unwrap();
    assert_eq!(verified.timestamp, None);
    assert_eq!(verified.webhook_id, None);

    let ts = now.to_string();
    let pairs = [
        ("x-smartsuite-signature", sig.as_str()),
        ("x-smartsuite-timestamp", ts.as_str()),
    ];
    let check = |now: i64| v.verify(lookup(&pairs), BODY, &window, now);
    assert_eq!(check(now).unwrap().timestamp, Some(now));
    assert_eq!(check(now + 300).unwrap().timestamp, Some(now));
    assert!(matches!(
        check(now + 301),
        Err(WebhookError::Timestamp(TimestampError::TooOld { .. }))
    ));
    assert!(matches!(
        check(now - 31),
        Err(WebhookError::Timestamp(TimestampError::TooNew { .. }))
    ));
    assert!(check(now + 301).unwrap_err().is_timestamp());

    let pairs = [
        ("x-smartsuite-signature", sig.as_str()),
        ("x-smartsuite-timestamp", "soon"),
    ];
    let got = v.verify(lookup(&pairs), BODY, &window, now);
    assert_eq!(got, Err(WebhookError::Timestamp(TimestampError::Invalid)));

    // A bad signature is reported as such whatever the timestamp.
    let pairs = [
        ("x-smartsuite-signature", "sha256=00"),
        ("x-smartsuite-timestamp", "1"),
    ];
    let bad = v.verify(lookup(&pairs), BODY, &window, now).unwrap_err();
    assert_eq!(bad, WebhookError::MalformedHeader(HMAC_SIGNATURE_HEADER));
    assert!(!bad.is_timestamp());
    let wrong = sign_hmac(&SecretString::new("other"), BODY);
    let pairs = [
        ("x-smartsuite-signature", wrong.as_str()),
        ("x-smartsuite-timestamp", "1"),
    ];
    assert_eq!(
        v.verify(lookup(&pairs), BODY, &window, now),
        Err(WebhookError::InvalidSignature)
    );
}
