#![doc = include_str!("../README.md")]

use actix_web::middleware::DefaultHeaders;

/// HSTS for a year, subdomains included (sent only when the public URL is https).
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000; includeSubDomains";

/// The console's pages: no script at all, styles and images from the console only, forms to the
/// console only, never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The headers every response carries (a response that sets one itself keeps its own).
/// `https`: the public URL is https, so browsers are told to use nothing else.
pub fn security_headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"));
    if https {
        headers.add(("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY))
    } else {
        headers
    }
}
