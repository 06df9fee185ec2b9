//! Signature headers, timestamps and bodies of both webhook schemes, checked against an
//! independent HMAC computed here with `ring`.
//!
//! Input: fields separated by `0xFF` (a byte that never occurs in UTF-8, so the corpus files
//! are readable), missing fields empty:
//!
//! 0. parameters (little endian, zero-padded): `flip: u8` (which tag bit to flip),
//!    `offset: i32` (now − timestamp, seconds), `max_age: u16`, `skew: u8` (the window);
//! 1. the secret (an `hmac` secret as is; for `standard`, used as `whsec_…` when it is one,
//!    else its bytes are the key);
//! 2. the raw body;
//! 3. `webhook-id`;
//! 4. `webhook-timestamp` / `x-smartsuite-timestamp`;
//! 5. `webhook-signature` / `x-smartsuite-signature`, exactly as received;
//! 6. … extra `webhook-signature` entries put around a genuine signature.
//!
//! Invariants: nothing panics; a header accepted as is must carry the right HMAC (and only
//! then); timestamps parse exactly when they are whole non-negative numbers that fit an `i64`
//! and pass the window exactly when `−skew ≤ now − t ≤ max_age`; a signature made by the
//! crate's own `sign_hmac` / `sign_standard` always verifies (among other entries, in other
//! spellings) and the same signature with one bit flipped, or over a different body, id or
//! timestamp, never does.
//!
//! Run: `cargo +nightly fuzz run verify_signature` (from crates/webhook-security/fuzz).
#![no_main]

use std::time::Duration;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use libfuzzer_sys::fuzz_target;
use ring::hmac;
use suiteflow_crypto::SecretString;
use suiteflow_webhook_security::{
    HMAC_SIGNATURE_HEADER, HMAC_TIMESTAMP_HEADER, HmacVerifier, Scheme, StandardHeaders,
    StandardVerifier, TimestampError, TimestampWindow, Verifier, WEBHOOK_ID_HEADER,
    WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER, WebhookError, parse_timestamp, sign_hmac,
    sign_standard, verify_hmac,
};

/// Base64 as the crate reads it: padding optional (and, as the `base64` crate allows in this
/// mode, partial: `…w=` for `…w==`).
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

struct Params {
    flip: u8,
    offset: i64,
    window: TimestampWindow,
}

fn params(bytes: &[u8]) -> Params {
    let mut p = [0u8; 8];
    let n = bytes.len().min(8);
    p[..n].copy_from_slice(&bytes[..n]);
    Params {
        flip: p[0],
        offset: i64::from(i32::from_le_bytes([p[1], p[2], p[3], p[4]])),
        window: TimestampWindow {
            max_age: Duration::from_secs(u64::from(u16::from_le_bytes([p[5], p[6]]))),
            future_skew: Duration::from_secs(u64::from(p[7])),
        },
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// HMAC-SHA256, computed without the crate under test.
fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = hmac::Context::with_key(&hmac::Key::new(hmac::HMAC_SHA256, key));
    for part in parts {
        ctx.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.sign().as_ref());
    out
}

fn flipped(tag: &[u8; 32], bit: u8) -> [u8; 32] {
    let mut out = *tag;
    out[usize::from(bit / 8)] ^= 1 << (bit % 8);
    out
}

/// Whether the window accepts `timestamp` at `now`, computed in `i128`.
fn in_window(window: &TimestampWindow, timestamp: i64, now: i64) -> bool {
    let age = i128::from(now) - i128::from(timestamp);
    age <= i128::from(window.max_age.as_secs()) && -age <= i128::from(window.future_skew.as_secs())
}

fuzz_target!(|data: &[u8]| {
    let mut fields = data.split(|b| *b == 0xFF);
    let p = params(fields.next().unwrap_or_default());
    let secret = text(fields.next().unwrap_or_default());
    let body = fields.next().unwrap_or_default();
    let id = text(fields.next().unwrap_or_default());
    let timestamp = text(fields.next().unwrap_or_default());
    let signature = text(fields.next().unwrap_or_default());
    let extras: Vec<String> = fields.map(text).collect();

    let parsed = check_timestamp(&timestamp);
    let now_ts = parsed.unwrap_or(1_700_000_000);
    let now = now_ts.saturating_add(p.offset);
    check_window(&p.window, now_ts, now);

    check_hmac(&p, &secret, body, &timestamp, parsed, &signature, now);
    check_standard(
        &p, &secret, body, &id, &timestamp, parsed, &signature, &extras, now,
    );
});

/// `parse_timestamp` accepts exactly the (trimmed) runs of ASCII digits that fit an `i64`.
fn check_timestamp(header: &str) -> Option<i64> {
    let t = header.trim();
    let expected = (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        .then(|| {
            t.bytes().try_fold(0i128, |acc, d| {
                let v = acc * 10 + i128::from(d - b'0');
                (v <= i128::from(i64::MAX)).then_some(v)
            })
        })
        .flatten()
        .map(|v| i64::try_from(v).unwrap_or(i64::MAX));
    let got = parse_timestamp(header);
    match (got, expected) {
        (Ok(a), Some(b)) => assert_eq!(a, b, "{header:?}"),
        (Err(TimestampError::Invalid), None) => {}
        (got, expected) => panic!("parse_timestamp({header:?}) = {got:?}, expected {expected:?}"),
    }
    got.ok()
}

fn check_window(window: &TimestampWindow, timestamp: i64, now: i64) {
    let ok = in_window(window, timestamp, now);
    match window.check_value(timestamp, now) {
        Ok(()) => assert!(ok, "window accepted {timestamp} at {now}"),
        Err(TimestampError::TooOld { age_secs, .. }) => {
            assert!(
                !ok && age_secs > 0 && now > timestamp,
                "{timestamp} at {now}"
            );
        }
        Err(TimestampError::TooNew { ahead_secs, .. }) => {
            assert!(
                !ok && ahead_secs > 0 && now < timestamp,
                "{timestamp} at {now}"
            );
        }
        Err(TimestampError::Invalid) => panic!("check_value answered Invalid"),
    }
}

fn check_hmac(
    p: &Params,
    secret: &str,
    body: &[u8],
    timestamp: &str,
    parsed: Option<i64>,
    header: &str,
    now: i64,
) {
    let secret_s = SecretString::new(secret);
    let verifier = match HmacVerifier::new(&secret_s) {
        Ok(v) => v,
        Err(_) => {
            assert!(
                secret.trim().is_empty(),
                "a non-blank hmac secret was refused"
            );
            assert!(verify_hmac(&secret_s, Some(&sign_hmac(&secret_s, body)), body).is_err());
            return;
        }
    };
    assert!(
        !secret.trim().is_empty(),
        "a blank hmac secret was accepted"
    );
    let expected = mac(secret.as_bytes(), &[body]);
    let expected_hex = hex::encode(expected);

    // The header as received: accepted only if it is the right tag, in any accepted spelling.
    let normal = {
        let h = header.trim();
        let h = match h.get(..7) {
            Some(prefix) if prefix.eq_ignore_ascii_case("sha256=") => &h[7..],
            _ => h,
        };
        h.to_ascii_lowercase()
    };
    match verifier.verify(Some(header), body) {
        Ok(()) => assert_eq!(normal, expected_hex, "a wrong hmac header was accepted"),
        Err(WebhookError::InvalidSignature) => {
            assert_ne!(normal, expected_hex, "the right hmac header was refused")
        }
        Err(WebhookError::MissingHeader(_)) => assert!(header.trim().is_empty()),
        Err(WebhookError::MalformedHeader(_)) => {
            assert!(hex::decode(&normal).map_or(true, |t| t.len() != 32));
        }
        Err(e) => panic!("hmac verify: unexpected {e:?}"),
    }

    // Through the scheme-level verifier, with the timestamp header.
    let v = Verifier::new(Scheme::Hmac, &secret_s).expect("the secret was accepted above");
    assert_eq!(v.scheme(), Scheme::Hmac);
    let headers = |name: &str| match name {
        HMAC_SIGNATURE_HEADER => Some(header),
        HMAC_TIMESTAMP_HEADER => Some(timestamp),
        _ => None,
    };
    if let Ok(verified) = v.verify(headers, body, &p.window, now) {
        assert_eq!(normal, expected_hex);
        assert_eq!(verified.webhook_id, None);
        if timestamp.trim().is_empty() {
            assert_eq!(verified.timestamp, None);
        } else {
            assert_eq!(verified.timestamp, parsed);
            assert!(in_window(&p.window, parsed.unwrap_or_default(), now));
        }
    }

    // Our own signature verifies, in every accepted spelling.
    let signed = sign_hmac(&secret_s, body);
    assert_eq!(signed, verifier.sign(body));
    assert_eq!(signed, format!("sha256={expected_hex}"));
    for spelling in [
        signed.clone(),
        expected_hex.clone(),
        signed.to_ascii_uppercase(),
        format!(" \t{signed} "),
        format!("SHA256={expected_hex}"),
    ] {
        assert_eq!(verifier.verify(Some(&spelling), body), Ok(()), "{spelling}");
    }
    assert_eq!(verify_hmac(&secret_s, Some(&signed), body), Ok(()));
    let with_ts = |name: &str| match name {
        HMAC_SIGNATURE_HEADER => Some(signed.as_str()),
        HMAC_TIMESTAMP_HEADER => Some(timestamp),
        _ => None,
    };
    let result = v.verify(with_ts, body, &p.window, now);
    let ts_ok = timestamp.trim().is_empty() || parsed.is_some_and(|t| in_window(&p.window, t, now));
    assert_eq!(result.is_ok(), ts_ok, "{result:?}");
    if let Err(e) = result {
        assert!(e.is_timestamp(), "{e:?}");
    }

    // One flipped bit, or another body, never verifies.
    let bad = format!("sha256={}", hex::encode(flipped(&expected, p.flip)));
    assert_eq!(
        verifier.verify(Some(&bad), body),
        Err(WebhookError::InvalidSignature)
    );
    let mut other = body.to_vec();
    match other.first_mut() {
        Some(b) => *b ^= 1 << (p.flip % 8),
        None => other.push(p.flip),
    }
    let mut longer = body.to_vec();
    longer.push(0);
    for other in [other, longer] {
        assert_eq!(
            verifier.verify(Some(&signed), &other),
            Err(WebhookError::InvalidSignature)
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn check_standard(
    p: &Params,
    secret: &str,
    body: &[u8],
    id: &str,
    timestamp: &str,
    parsed: Option<i64>,
    header: &str,
    extras: &[String],
    now: i64,
) {
    // The secret as given: never panics; when accepted, its key is the base64 after `whsec_`.
    let given = SecretString::new(secret);
    let (verifier, key, secret_s) = match StandardVerifier::new(&given) {
        Ok(v) => {
            let t = secret.trim();
            let t = t.strip_prefix("whsec_").unwrap_or(t);
            let key = LENIENT
                .decode(t)
                .expect("an accepted standard secret is base64");
            assert!(!key.is_empty());
            (v, key, given)
        }
        Err(_) => {
            let key = if secret.is_empty() {
                vec![0u8]
            } else {
                secret.as_bytes().to_vec()
            };
            let derived = SecretString::new(format!("whsec_{}", STANDARD.encode(&key)));
            let v = StandardVerifier::new(&derived).expect("whsec_ + base64 is a valid secret");
            // Without the prefix, and without padding, it is the same key.
            for alt in [STANDARD.encode(&key), STANDARD_NO_PAD.encode(&key)] {
                let alt = StandardVerifier::new(&SecretString::new(alt)).expect("bare base64");
                assert_eq!(alt.sign("i", 1, body), v.sign("i", 1, body));
            }
            (v, key, derived)
        }
    };

    // The headers as received: accepted only with the right tag among the entries.
    let headers = StandardHeaders {
        id: Some(id),
        timestamp: Some(timestamp),
        signature: Some(header),
    };
    let expected = mac(
        &key,
        &[
            id.trim().as_bytes(),
            b".",
            timestamp.trim().as_bytes(),
            b".",
            body,
        ],
    );
    let carries_tag = header.split_ascii_whitespace().any(|entry| {
        entry
            .strip_prefix("v1,")
            .is_some_and(|b64| LENIENT.decode(b64).is_ok_and(|t| t == expected))
    });
    let well_formed = !id.trim().is_empty() && parsed.is_some() && !header.trim().is_empty();
    match verifier.verify_ignoring_timestamp(&headers, body) {
        Ok(message) => {
            assert!(
                well_formed && carries_tag,
                "a wrong standard signature was accepted"
            );
            assert_eq!(message.id, id.trim());
            assert_eq!(Some(message.timestamp), parsed);
        }
        Err(WebhookError::InvalidSignature) => {
            assert!(
                well_formed && !carries_tag,
                "the right standard signature was refused"
            );
        }
        Err(WebhookError::MissingHeader(_) | WebhookError::Timestamp(_)) => {
            assert!(!well_formed);
        }
        Err(e) => panic!("standard verify: unexpected {e:?}"),
    }
    let full = verifier.verify(&headers, body, &p.window, now);
    let v = Verifier::new(Scheme::Standard, &secret_s).expect("accepted above");
    let lookup = |name: &str| match name {
        WEBHOOK_ID_HEADER => Some(id),
        WEBHOOK_TIMESTAMP_HEADER => Some(timestamp),
        WEBHOOK_SIGNATURE_HEADER => Some(header),
        _ => None,
    };
    assert_eq!(StandardHeaders::from_fn(lookup), headers);
    let through = v.verify(lookup, body, &p.window, now);
    assert_eq!(full.is_ok(), through.is_ok());
    if let Ok(message) = full {
        assert!(carries_tag && in_window(&p.window, message.timestamp, now));
        let verified = through.expect("same verdict");
        assert_eq!(verified.webhook_id.as_deref(), Some(id.trim()));
        assert_eq!(verified.timestamp, parsed);
    }

    // Our own signature verifies among other entries; a real header value has no surrounding
    // whitespace and is not empty.
    let id = if id.trim().is_empty() {
        "msg"
    } else {
        id.trim()
    };
    let ts = parsed.unwrap_or(1_700_000_000);
    let ts_text = ts.to_string();
    let signed = sign_standard(&secret_s, id, ts, body).expect("valid secret");
    assert_eq!(signed, verifier.sign(id, ts, body));
    let own = mac(&key, &[id.as_bytes(), b".", ts_text.as_bytes(), b".", body]);
    assert_eq!(signed, format!("v1,{}", STANDARD.encode(own)));
    let (before, after) = extras.split_at(extras.len() / 2);
    let around = |entry: &str| {
        let mut all: Vec<&str> = before.iter().map(String::as_str).collect();
        all.push(entry);
        all.extend(after.iter().map(String::as_str));
        all.join(" ")
    };
    let unpadded = format!("v1,{}", STANDARD_NO_PAD.encode(own));
    for value in [signed.clone(), around(&signed), around(&unpadded)] {
        let h = StandardHeaders {
            id: Some(id),
            timestamp: Some(&ts_text),
            signature: Some(&value),
        };
        let message = verifier
            .verify(&h, body, &p.window, ts)
            .unwrap_or_else(|e| panic!("own signature refused: {e:?} ({value:?})"));
        assert_eq!((message.id.as_str(), message.timestamp), (id, ts));
        let later = verifier.verify(&h, body, &p.window, now);
        assert_eq!(later.is_ok(), in_window(&p.window, ts, now), "{later:?}");
    }

    // A flipped bit, another body, id or timestamp: refused for the signature. The extra
    // entries go around the flipped one, less any that carries the genuine tag (the fuzzer
    // copies it there from the signature field).
    let genuine = |entry: &str| {
        entry
            .strip_prefix("v1,")
            .is_some_and(|b64| LENIENT.decode(b64).is_ok_and(|t| t == own))
    };
    let mut entries: Vec<&str> = before
        .iter()
        .flat_map(|e| e.split_ascii_whitespace())
        .filter(|e| !genuine(e))
        .collect();
    let flipped_entry = format!("v1,{}", STANDARD.encode(flipped(&own, p.flip)));
    entries.push(&flipped_entry);
    entries.extend(
        after
            .iter()
            .flat_map(|e| e.split_ascii_whitespace())
            .filter(|e| !genuine(e)),
    );
    let bad = entries.join(" ");
    let other_ts = ts.wrapping_add(1).max(0).to_string();
    let other_id = format!("{id}x");
    let mut other_body = body.to_vec();
    other_body.push(b'.');
    for (hid, hts, hsig, hbody) in [
        (id, ts_text.as_str(), bad.as_str(), body),
        (id, ts_text.as_str(), signed.as_str(), other_body.as_slice()),
        (other_id.as_str(), ts_text.as_str(), signed.as_str(), body),
        (id, other_ts.as_str(), signed.as_str(), body),
    ] {
        let h = StandardHeaders {
            id: Some(hid),
            timestamp: Some(hts),
            signature: Some(hsig),
        };
        assert_eq!(
            verifier.verify_ignoring_timestamp(&h, hbody),
            Err(WebhookError::InvalidSignature),
            "{h:?}"
        );
    }
}
