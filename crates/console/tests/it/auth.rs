//! Logging in and out, the session cookie, the throttle, and the guard in front of every route.

use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_login_with_the_password_opens_a_session_and_logout_ends_it() {
    let site = Site::start().await;
    let mut c = site.client();
    let (status, page) = c.text("/login").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"name="csrf" value=""#), "{page}");
    assert!(
        page.contains(r#"<label for="password">"#),
        "the input is labelled"
    );

    let response = c.login(PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/");
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(cookie.starts_with("suiteflow_console="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(!cookie.contains("Secure"), "APP_URL is http: {cookie}");
    assert!(cookie.contains("Max-Age=28800"), "8 hours: {cookie}");
    let (status, page) = c.text("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<h1>Overview</h1>"), "{page}");

    let csrf = meta_csrf(&page);
    let response = c.post_form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login");
    let response = c.get("/").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cookie_is_secure_when_the_console_is_reached_over_https() {
    let site = Site::start_with(&[("APP_URL", "https://sync.example.com")]).await;
    let mut c = site.client();
    let response = c.login(PASSWORD).await;
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_gets_401_and_no_session_and_the_sixth_attempt_429() {
    let site = Site::start().await;
    let mut c = site.client();
    for attempt in 1..=5 {
        let response = c.login("wrong").await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
        assert!(
            response.headers().get(SET_COOKIE).is_none(),
            "no session cookie on a failed login"
        );
        let body = response.text().await.unwrap();
        assert!(
            body.contains("not right") && body.contains("<form"),
            "{body}"
        );
    }
    let response = c.login(PASSWORD).await;
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits out the minute"
    );
    assert_eq!(c.get("/").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_login_without_its_csrf_token_is_refused_with_403() {
    let site = Site::start().await;
    let mut c = site.client();
    c.page_csrf("/login").await;
    let response = c.post_form("/login", &[("password", PASSWORD)]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = c
        .post_form("/login", &[("password", PASSWORD), ("csrf", "made-up")])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        c.get("/").await.status(),
        StatusCode::SEE_OTHER,
        "not logged in"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_session_pages_redirect_to_login_and_the_api_answers_401() {
    let site = Site::start().await;
    let mut c = site.client();
    for path in ["/", "/connections", "/events", "/connections/x"] {
        let response = c.get(path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&response), "/login", "{path}");
    }
    for path in [
        "/api/v1/overview",
        "/api/v1/events",
        "/api/v1/session",
        "/api/v1/openapi.json",
    ] {
        let (status, body) = c.json(path).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
    // Public: the health check and the stylesheet.
    assert_eq!(c.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(c.get("/static/console.css").await.status(), StatusCode::OK);
}

/// Every state-changing route, with the parameters it needs.
fn state_changing(connection: &str, event: &str) -> Vec<String> {
    vec![
        "/logout".into(),
        format!("/connections/{connection}/pause"),
        format!("/connections/{connection}/resume"),
        format!("/connections/{connection}/rotate-secret"),
        format!("/connections/{connection}/register-webhook"),
        format!("/connections/{connection}/replay-dead-letters"),
        format!("/connections/{connection}/backfill/plan"),
        format!("/connections/{connection}/backfill/start"),
        format!("/connections/{connection}/backfill/queue"),
        format!("/events/{event}/replay"),
        format!("/api/v1/connections/{connection}/pause"),
        format!("/api/v1/connections/{connection}/resume"),
        format!("/api/v1/events/{event}/replay"),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn every_state_changing_route_refuses_a_request_without_a_session_or_without_csrf() {
    let site = Site::start().await;
    let connection = site.world.connection.0.to_string();
    let event = uuid::Uuid::new_v4().to_string();
    let routes = state_changing(&connection, &event);

    let mut anonymous = site.client();
    for route in &routes {
        let response = anonymous.post_form(route, &[("csrf", "x")]).await;
        let expected = if route.starts_with("/api/") {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::SEE_OTHER
        };
        assert_eq!(response.status(), expected, "{route} without a session");
    }

    let mut operator = site.operator().await;
    for route in &routes {
        let response = operator.post_form(route, &[("other", "field")]).await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{route} without csrf"
        );
        let response = operator
            .request(reqwest::Method::POST, route, None, Some("wrong-token"))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{route} with a wrong csrf"
        );
    }
    // Nothing changed: the connection is still active.
    let (_, detail) = operator
        .json(&format!("/api/v1/connections/{connection}"))
        .await;
    assert_eq!(detail["status"], "active", "{detail}");
}

/// The security headers of a console response (those of every service, and the pages' strict
/// content security policy); `hsts`: expected (APP_URL is https).
fn assert_security_headers(response: &reqwest::Response, hsts: bool) {
    suiteflow_test_support::http::assert_security_headers(response, hsts);
    let csp = response
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_string())
        .expect("a content security policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("script-src"), "no script is allowed: {csp}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_page_and_refusal_carries_the_security_headers() {
    let site = Site::start().await;
    let mut c = site.client();
    let login = c.get("/login").await;
    assert_eq!(login.status(), StatusCode::OK);
    assert_security_headers(&login, false);
    // The guard's answers carry them too.
    let redirect = c.get("/").await;
    assert_eq!(redirect.status(), StatusCode::SEE_OTHER);
    assert_security_headers(&redirect, false);
    let refused = c.get("/api/v1/overview").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_security_headers(&refused, false);
    let mut operator = site.operator().await;
    let page = operator.get("/").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_security_headers(&page, false);

    let secure = Site::start_with(&[("APP_URL", "https://sync.example.com")]).await;
    let login = secure.client().get("/login").await;
    assert_security_headers(&login, true);
}
