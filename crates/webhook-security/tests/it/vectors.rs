//! Every case of the Standard Webhooks vectors (tests/data/standard-webhooks-vectors.json, an
//! unchanged copy of the vectors the Standard Webhooks project publishes; its `source` block
//! names the repository and commit). Each test runs all cases of one section, collects the
//! failures by case name, and checks that no case was skipped.

use serde::Deserialize;
use serde_json::Value;
use suiteflow_crypto::SecretString;
use suiteflow_webhook_security::{
    SecretError, StandardHeaders, StandardVerifier, TimestampError, TimestampWindow,
    WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER, WebhookError,
    sign_standard,
};

const VECTORS: &str = include_str!("../data/standard-webhooks-vectors.json");

#[derive(Deserialize)]
struct Vectors {
    source: Value,
    sign: Vec<SignCase>,
    verify: Vec<VerifyCase>,
    errors: Vec<ErrorCase>,
    timestamp_tolerance: Tolerance,
}

#[derive(Deserialize)]
struct SignCase {
    name: String,
    secret: String,
    msg_id: String,
    timestamp: i64,
    payload: String,
    expected_signature: String,
}

#[derive(Deserialize)]
struct VerifyCase {
    name: String,
    secret: String,
    msg_id: String,
    timestamp: i64,
    payload: String,
    signature_header: String,
    expect: String,
}

#[derive(Deserialize)]
struct ErrorCase {
    name: String,
    missing_header: Option<String>,
    secret: Option<String>,
    timestamp_header: Option<String>,
    expect: String,
}

#[derive(Deserialize)]
struct Tolerance {
    seconds: u64,
    cases: Vec<ToleranceCase>,
}

#[derive(Deserialize)]
struct ToleranceCase {
    name: String,
    timestamp: String,
    expect: String,
}

fn vectors() -> Vectors {
    serde_json::from_str(VECTORS).unwrap()
}

fn verifier(secret: &str) -> StandardVerifier {
    StandardVerifier::new(&SecretString::new(secret)).unwrap()
}

/// Fails listing every failed case by name.
fn report(section: &str, failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{section}: {} failing case(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// SHA-256 of the vectors file as it was copied from the commit its `source` block names.
const VECTORS_SHA256: &str = "3b282089feb0bb5e258c5051ba11b2b527d2ebb55e1a747730f9139498988a7c";

#[test]
fn the_copy_is_unchanged_and_keeps_its_source_block() {
    let v = vectors();
    assert_eq!(v.source["repo"], "standard-webhooks/standard-webhooks");
    assert!(v.source["commit"].as_str().unwrap().len() == 40);
    let digest = ring::digest::digest(&ring::digest::SHA256, VECTORS.as_bytes());
    assert_eq!(
        hex::encode(digest),
        VECTORS_SHA256,
        "the test data must be an unchanged copy: take the vectors again from the commit of \
         their source block, and update the hash with them"
    );
}

#[test]
fn sign_cases() {
    let v = vectors();
    assert_eq!(v.sign.len(), 3, "the vectors' sign section changed");
    let mut failures = Vec::new();
    for case in &v.sign {
        let secret = SecretString::new(case.secret.as_str());
        match sign_standard(
            &secret,
            &case.msg_id,
            case.timestamp,
            case.payload.as_bytes(),
        ) {
            Ok(sig) if sig == case.expected_signature => {}
            other => failures.push(format!(
                "{}: got {other:?}, want {}",
                case.name, case.expected_signature
            )),
        }
        // What we sign, we verify.
        let ts = case.timestamp.to_string();
        let headers = StandardHeaders {
            id: Some(&case.msg_id),
            timestamp: Some(&ts),
            signature: Some(&case.expected_signature),
        };
        if let Err(e) =
            verifier(&case.secret).verify_ignoring_timestamp(&headers, case.payload.as_bytes())
        {
            failures.push(format!(
                "{}: its own signature does not verify: {e}",
                case.name
            ));
        }
    }
    report("sign", failures);
}

#[test]
fn verify_cases() {
    let v = vectors();
    assert_eq!(v.verify.len(), 12, "the vectors' verify section changed");
    let mut failures = Vec::new();
    for case in &v.verify {
        let ts = case.timestamp.to_string();
        let headers = StandardHeaders {
            id: Some(&case.msg_id),
            timestamp: Some(&ts),
            signature: Some(&case.signature_header),
        };
        // Historical timestamps: the injected clock is the message's own time.
        let got = verifier(&case.secret).verify(
            &headers,
            case.payload.as_bytes(),
            &TimestampWindow::default(),
            case.timestamp,
        );
        let ok = match (case.expect.as_str(), &got) {
            ("valid", Ok(message)) => {
                message.id == case.msg_id && message.timestamp == case.timestamp
            }
            ("invalid_signature", Err(WebhookError::InvalidSignature)) => true,
            ("valid" | "invalid_signature", _) => false,
            (other, _) => panic!("{}: unknown expectation {other}", case.name),
        };
        if !ok {
            failures.push(format!(
                "{}: expected {}, got {got:?}",
                case.name, case.expect
            ));
        }
    }
    report("verify", failures);
}

#[test]
fn error_cases() {
    let v = vectors();
    assert_eq!(v.errors.len(), 8, "the vectors' errors section changed");
    // The base message: the first valid verify case.
    let base = v.verify.iter().find(|c| c.expect == "valid").unwrap();
    let ts = base.timestamp.to_string();
    let mut failures = Vec::new();
    for case in &v.errors {
        let outcome: Result<(), String> = if let Some(missing) = &case.missing_header {
            let mut headers = StandardHeaders {
                id: Some(&base.msg_id),
                timestamp: Some(&ts),
                signature: Some(&base.signature_header),
            };
            let expected_name = match missing.as_str() {
                "webhook-id" => {
                    headers.id = None;
                    WEBHOOK_ID_HEADER
                }
                "webhook-timestamp" => {
                    headers.timestamp = None;
                    WEBHOOK_TIMESTAMP_HEADER
                }
                "webhook-signature" => {
                    headers.signature = None;
                    WEBHOOK_SIGNATURE_HEADER
                }
                other => panic!("{}: unknown header {other}", case.name),
            };
            match verifier(&base.secret)
                .verify_ignoring_timestamp(&headers, base.payload.as_bytes())
            {
                Err(WebhookError::MissingHeader(name)) if name == expected_name => Ok(()),
                other => Err(format!(
                    "expected MissingHeader({expected_name}), got {other:?}"
                )),
            }
        } else if let Some(secret) = &case.secret {
            assert_eq!(case.expect, "construction_error", "{}", case.name);
            match StandardVerifier::new(&SecretString::new(secret.as_str())) {
                Err(SecretError::Empty) => Ok(()),
                other => Err(format!("expected a construction error, got {other:?}")),
            }
        } else if let Some(timestamp) = &case.timestamp_header {
            let headers = StandardHeaders {
                id: Some(&base.msg_id),
                timestamp: Some(timestamp),
                signature: Some(&base.signature_header),
            };
            let window = TimestampWindow::default();
            match verifier(&base.secret).verify(
                &headers,
                base.payload.as_bytes(),
                &window,
                base.timestamp,
            ) {
                Err(WebhookError::Timestamp(TimestampError::Invalid)) => Ok(()),
                other => Err(format!("expected an invalid timestamp, got {other:?}")),
            }
        } else {
            panic!("{}: a case of a kind this test does not know", case.name);
        };
        if case.secret.is_none() {
            assert_eq!(case.expect, "error", "{}", case.name);
        }
        if let Err(why) = outcome {
            failures.push(format!("{}: {why}", case.name));
        }
    }
    report("errors", failures);
}

/// `"now - 301"` → -301, `"now + 301"` → 301, `"now"` → 0.
fn offset(expr: &str) -> Option<i64> {
    let rest = expr.trim().strip_prefix("now")?.trim();
    if rest.is_empty() {
        return Some(0);
    }
    let (sign, n) = rest.split_at(1);
    let n: i64 = n.trim().parse().ok()?;
    match sign {
        "+" => Some(n),
        "-" => Some(-n),
        _ => None,
    }
}

#[test]
fn timestamp_tolerance_cases() {
    let v = vectors();
    let tolerance = &v.timestamp_tolerance;
    assert_eq!(
        tolerance.cases.len(),
        5,
        "the vectors' tolerance section changed"
    );
    assert_eq!(tolerance.seconds, 300);
    // Our window: the vectors' 300 s into the past (our default), but only 30 s into the future.
    let window = TimestampWindow::default();
    assert_eq!(window.max_age.as_secs(), tolerance.seconds);

    let base = &v.sign[0];
    let signer = verifier(&base.secret);
    let body = base.payload.as_bytes();
    let now: i64 = 1_714_000_000;

    let mut failures = Vec::new();
    for case in &tolerance.cases {
        let got: Result<(), WebhookError> = match case.name.as_str() {
            "too_old" | "too_new" | "inside_window" => {
                let ts = now + offset(&case.timestamp).unwrap();
                let sig = signer.sign(&base.msg_id, ts, body);
                let ts_text = ts.to_string();
                let headers = StandardHeaders {
                    id: Some(&base.msg_id),
                    timestamp: Some(&ts_text),
                    signature: Some(&sig),
                };
                signer.verify(&headers, body, &window, now).map(|_| ())
            }
            "old_but_tolerance_disabled" => {
                let ts = now + offset(&case.timestamp).unwrap();
                let sig = signer.sign(&base.msg_id, ts, body);
                let ts_text = ts.to_string();
                let headers = StandardHeaders {
                    id: Some(&base.msg_id),
                    timestamp: Some(&ts_text),
                    signature: Some(&sig),
                };
                // With the window it is too old; without, its signature is good.
                match signer.verify(&headers, body, &window, now) {
                    Err(WebhookError::Timestamp(TimestampError::TooOld { .. })) => {
                        signer.verify_ignoring_timestamp(&headers, body).map(|_| ())
                    }
                    other => Err(other.err().unwrap_or(WebhookError::InvalidSignature)),
                }
            }
            "ignoring_tolerance_still_rejects_bad_sig" => {
                let sig = signer.sign(&base.msg_id, now, body);
                let substituted = case.timestamp.split_whitespace().next().unwrap();
                assert_eq!(substituted, "946684800");
                let headers = StandardHeaders {
                    id: Some(&base.msg_id),
                    timestamp: Some(substituted),
                    signature: Some(&sig),
                };
                signer.verify_ignoring_timestamp(&headers, body).map(|_| ())
            }
            other => panic!("unknown tolerance case {other}: add it to this test"),
        };
        let ok = match case.expect.as_str() {
            "timestamp_too_old" => matches!(
                got,
                Err(WebhookError::Timestamp(TimestampError::TooOld { .. }))
            ),
            "timestamp_too_new" => matches!(
                got,
                Err(WebhookError::Timestamp(TimestampError::TooNew { .. }))
            ),
            "invalid_signature" => got == Err(WebhookError::InvalidSignature),
            e if e.starts_with("valid") => got.is_ok(),
            other => panic!("{}: unknown expectation {other}", case.name),
        };
        if !ok {
            failures.push(format!(
                "{}: expected {}, got {got:?}",
                case.name, case.expect
            ));
        }
    }
    report("timestamp_tolerance", failures);
}

#[test]
fn offsets_parse() {
    assert_eq!(offset("now - 301"), Some(-301));
    assert_eq!(offset("now + 301"), Some(301));
    assert_eq!(offset("now"), Some(0));
    assert_eq!(offset("later"), None);
}
