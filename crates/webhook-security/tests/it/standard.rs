use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use suiteflow_crypto::SecretString;
use suiteflow_webhook_security::{
    Scheme, SecretError, StandardHeaders, StandardVerifier, TimestampError, TimestampWindow,
    Verifier, WEBHOOK_SIGNATURE_HEADER, WebhookError, generate_webhook_secret, sign_standard,
};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TS: i64 = 1_614_265_330;
const BODY: &[u8] = br#"{"test": 2432232314}"#;

fn verifier() -> StandardVerifier {
    StandardVerifier::new(&SecretString::new(SECRET)).unwrap()
}

fn check(signature: &str, body: &[u8]) -> Result<(), WebhookError> {
    let ts = TS.to_string();
    let headers = StandardHeaders {
        id: Some(ID),
        timestamp: Some(&ts),
        signature: Some(signature),
    };
    verifier()
        .verify(&headers, body, &TimestampWindow::default(), TS)
        .map(|_| ())
}

#[test]
fn a_signature_verifies_and_returns_id_and_timestamp() {
    let sig = verifier().sign(ID, TS, BODY);
    assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    let ts = TS.to_string();
    let headers = StandardHeaders {
        id: Some(ID),
        timestamp: Some(&ts),
        signature: Some(&sig),
    };
    let message = verifier()
        .verify(&headers, BODY, &TimestampWindow::default(), TS + 5)
        .unwrap();
    assert_eq!(message.id, ID);
    assert_eq!(message.timestamp, TS);
}

#[test]
fn an_entry_without_padding_is_accepted() {
    assert_eq!(
        check("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE", BODY),
        Ok(())
    );
}

#[test]
fn entries_may_be_separated_by_several_spaces() {
    let sig = verifier().sign(ID, TS, BODY);
    assert_eq!(check(&format!("v1,AAAA  {sig}   v2,xyz"), BODY), Ok(()));
}

#[test]
fn empty_and_truncated_entries_are_invalid() {
    for header in [
        "v1,",
        "v1",
        ",",
        "v1,g0hM9",
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1O",
        "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    ] {
        assert_eq!(
            check(header, BODY),
            Err(WebhookError::InvalidSignature),
            "{header:?}"
        );
    }
    // A signature of the right MAC but one byte short does not pass.
    let full = STANDARD
        .decode("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        .unwrap();
    assert_eq!(
        check(&format!("v1,{}", STANDARD.encode(&full[..31])), BODY),
        Err(WebhookError::InvalidSignature)
    );
}

#[test]
fn an_empty_signature_header_is_missing() {
    assert_eq!(
        check("", BODY),
        Err(WebhookError::MissingHeader(WEBHOOK_SIGNATURE_HEADER))
    );
    assert_eq!(
        check("  ", BODY),
        Err(WebhookError::MissingHeader(WEBHOOK_SIGNATURE_HEADER))
    );
}

#[test]
fn a_changed_body_is_invalid() {
    let sig = verifier().sign(ID, TS, BODY);
    let mut body = BODY.to_vec();
    body[3] ^= 0x20;
    assert_eq!(check(&sig, &body), Err(WebhookError::InvalidSignature));
}

#[test]
fn the_timestamp_window_applies_after_the_signature() {
    let now = 1_700_000_000;
    let v = verifier();
    let window = TimestampWindow::default();
    let at = |ts: i64, now: i64| {
        let sig = v.sign(ID, ts, BODY);
        let ts = ts.to_string();
        let headers = StandardHeaders {
            id: Some(ID),
            timestamp: Some(&ts),
            signature: Some(&sig),
        };
        v.verify(&headers, BODY, &window, now).map(|m| m.timestamp)
    };
    assert_eq!(at(now - 300, now), Ok(now - 300));
    assert_eq!(at(now + 30, now), Ok(now + 30));
    assert!(matches!(
        at(now - 301, now),
        Err(WebhookError::Timestamp(TimestampError::TooOld { .. }))
    ));
    assert!(matches!(
        at(now + 31, now),
        Err(WebhookError::Timestamp(TimestampError::TooNew { .. }))
    ));
    // The vectors' too_new case (+301) is far outside our 30 s skew.
    assert!(matches!(
        at(now + 301, now),
        Err(WebhookError::Timestamp(TimestampError::TooNew { .. }))
    ));

    // A forged request with a stale timestamp is refused for its signature.
    let ts = (now - 10_000).to_string();
    let headers = StandardHeaders {
        id: Some(ID),
        timestamp: Some(&ts),
        signature: Some("v1,AAAA"),
    };
    assert_eq!(
        v.verify(&headers, BODY, &window, now).map(|_| ()),
        Err(WebhookError::InvalidSignature)
    );
}

#[test]
fn secrets_with_and_without_prefix_are_one_key() {
    let bare =
        StandardVerifier::new(&SecretString::new("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).unwrap();
    assert_eq!(bare.sign(ID, TS, BODY), verifier().sign(ID, TS, BODY));
}

#[test]
fn unusable_secrets_are_construction_errors() {
    for (secret, err) in [
        ("", SecretError::Empty),
        ("whsec_", SecretError::Empty),
        ("   ", SecretError::Empty),
        ("whsec_not base64!", SecretError::NotBase64),
        ("whsec_@@@@", SecretError::NotBase64),
    ] {
        assert_eq!(
            StandardVerifier::new(&SecretString::new(secret)).unwrap_err(),
            err,
            "{secret:?}"
        );
        assert_eq!(
            Verifier::new(Scheme::Standard, &SecretString::new(secret)).unwrap_err(),
            err
        );
        assert!(sign_standard(&SecretString::new(secret), ID, TS, BODY).is_err());
    }
}

#[test]
fn the_verifier_reads_the_three_headers() {
    let secret = generate_webhook_secret(Scheme::Standard);
    let v = Verifier::new(Scheme::Standard, &secret).unwrap();
    assert_eq!(v.scheme(), Scheme::Standard);
    let now = 1_700_000_000;
    let sig = sign_standard(&secret, "msg_42", now, BODY).unwrap();
    let ts = now.to_string();
    let pairs = [
        ("webhook-id", "msg_42"),
        ("webhook-timestamp", ts.as_str()),
        ("webhook-signature", sig.as_str()),
    ];
    let lookup = |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let verified = v
        .verify(lookup, BODY, &TimestampWindow::default(), now)
        .unwrap();
    assert_eq!(verified.webhook_id.as_deref(), Some("msg_42"));
    assert_eq!(verified.timestamp, Some(now));
    // Another connection's secret does not verify it.
    let other =
        Verifier::new(Scheme::Standard, &generate_webhook_secret(Scheme::Standard)).unwrap();
    assert_eq!(
        other.verify(lookup, BODY, &TimestampWindow::default(), now),
        Err(WebhookError::InvalidSignature)
    );
}

#[test]
fn errors_and_debug_never_show_secret_or_signature() {
    let sig = verifier().sign(ID, TS, b"other body");
    let err = check(&sig, BODY).unwrap_err();
    for text in [
        err.to_string(),
        format!("{err:?}"),
        format!("{:?}", verifier()),
    ] {
        assert!(!text.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "{text}");
        assert!(!text.contains(&sig[3..15]), "{text}");
    }
}
