use std::time::Duration;

use suiteflow_webhook_security::{
    FUTURE_SKEW, TimestampError, TimestampWindow, parse_timestamp, unix_now,
};

const NOW: i64 = 1_700_000_000;

#[test]
fn default_window_is_300_s_back_and_30_s_ahead() {
    let w = TimestampWindow::default();
    assert_eq!(w.max_age, Duration::from_secs(300));
    assert_eq!(w.future_skew, Duration::from_secs(30));
    assert_eq!(FUTURE_SKEW, Duration::from_secs(30));
}

#[test]
fn inside_the_window_returns_the_timestamp() {
    let w = TimestampWindow::default();
    for offset in [0, -1, -10, -300, 1, 30] {
        let ts = NOW + offset;
        assert_eq!(w.check(&ts.to_string(), NOW), Ok(ts), "offset {offset}");
    }
}

#[test]
fn older_than_max_age_is_too_old() {
    let w = TimestampWindow::default();
    assert_eq!(
        w.check(&(NOW - 301).to_string(), NOW),
        Err(TimestampError::TooOld {
            age_secs: 301,
            max_age_secs: 300
        })
    );
    assert!(matches!(
        w.check("0", NOW),
        Err(TimestampError::TooOld { .. })
    ));
    let short = TimestampWindow::new(Duration::from_secs(5));
    assert_eq!(short.check(&(NOW - 5).to_string(), NOW), Ok(NOW - 5));
    assert!(matches!(
        short.check(&(NOW - 6).to_string(), NOW),
        Err(TimestampError::TooOld { .. })
    ));
}

#[test]
fn more_than_30_s_ahead_is_too_new() {
    let w = TimestampWindow::default();
    assert_eq!(
        w.check(&(NOW + 31).to_string(), NOW),
        Err(TimestampError::TooNew {
            ahead_secs: 31,
            max_skew_secs: 30
        })
    );
    assert!(matches!(
        w.check(&(NOW + 301).to_string(), NOW),
        Err(TimestampError::TooNew { .. })
    ));
    // A longer max age does not widen the future skew.
    let day = TimestampWindow::new(Duration::from_secs(86_400));
    assert!(matches!(
        day.check(&(NOW + 31).to_string(), NOW),
        Err(TimestampError::TooNew { .. })
    ));
    assert!(matches!(
        w.check(&i64::MAX.to_string(), NOW),
        Err(TimestampError::TooNew { .. })
    ));
}

#[test]
fn malformed_timestamps_are_invalid() {
    let w = TimestampWindow::default();
    for bad in [
        "",
        " ",
        "161426533.0",
        "1.7e9",
        "invalid timestamp",
        "-161426533",
        "+1700000000",
        "0x1",
        "1700000000s",
        "17 00000000",
        "99999999999999999999",
        "１７",
    ] {
        assert_eq!(w.check(bad, NOW), Err(TimestampError::Invalid), "{bad:?}");
        assert_eq!(
            parse_timestamp(bad),
            Err(TimestampError::Invalid),
            "{bad:?}"
        );
    }
    assert_eq!(parse_timestamp(" 1700000000 "), Ok(NOW));
}

#[test]
fn the_clock_is_plausible() {
    // After 2023-11-14 and before 2100.
    let now = unix_now();
    assert!(now > NOW && now < 4_102_444_800, "{now}");
}

#[test]
fn messages_say_why_without_values_beyond_the_numbers() {
    let e = TimestampWindow::default().check("1", NOW).unwrap_err();
    assert!(e.to_string().contains("300 s"), "{e}");
}
