//! Parsers for the kinds of value settings hold. Each returns the rule on failure, never the value.

use std::net::SocketAddr;
use std::ops::RangeInclusive;

/// An integer inside `range`.
pub fn integer_in(range: RangeInclusive<u64>) -> impl FnOnce(&str) -> Result<u64, String> {
    move |raw| {
        let rule = || {
            format!(
                "must be an integer from {} to {}",
                range.start(),
                range.end()
            )
        };
        let n: u64 = raw.trim().parse().map_err(|_| rule())?;
        if range.contains(&n) {
            Ok(n)
        } else {
            Err(rule())
        }
    }
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`).
pub fn boolean(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err("must be true or false".into()),
    }
}

/// A socket address such as `0.0.0.0:8080`.
pub fn socket_addr(raw: &str) -> Result<SocketAddr, String> {
    raw.trim()
        .parse()
        .map_err(|_| "must be a socket address such as 0.0.0.0:8080".into())
}

/// An absolute `http://` or `https://` URL, without a trailing slash (paths are appended to it).
pub fn http_url(raw: &str) -> Result<url::Url, String> {
    let rule = || String::from("must be an absolute http(s) URL");
    let url = url::Url::parse(raw.trim()).map_err(|_| rule())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(rule());
    }
    Ok(url)
}
