//! Checks on HTTP answers shared by the services' tests.

/// Asserts the security headers every response of every service carries, whatever its status:
/// `nosniff`, `no-referrer`, and HSTS exactly when `hsts` (the public URL is https).
pub fn assert_security_headers(response: &reqwest::Response, hsts: bool) {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().expect("a header as text").to_string())
    };
    assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(header("referrer-policy").as_deref(), Some("no-referrer"));
    match header("strict-transport-security") {
        Some(value) => {
            assert!(hsts, "HSTS over plain http: {value}");
            assert!(value.starts_with("max-age=31536000"), "{value}");
        }
        None => assert!(!hsts, "no HSTS with an https APP_URL"),
    }
}
