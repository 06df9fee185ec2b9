//! Who may use the console: one password (bcrypt, `DASHBOARD_PASSWORD_HASH`), a session in an
//! encrypted, signed cookie (its key derived from `DATA_ENCRYPTION_KEY`), and a CSRF token per
//! session that every state-changing request must carry (form field `csrf` or header
//! `x-csrf-token`).
//!
//! - `GET /login` gives the form with a token; `POST /login` checks the token (403), the client
//!   address's failed attempts (429 after 5 in a minute) and then the password, in a blocking
//!   task (401 with the form again, no session, when wrong).
//! - Every other route but `/healthz` and `/static/…` needs the session: a page redirects (303)
//!   to `/login`, the API answers 401 with JSON.

use std::net::{IpAddr, Ipv4Addr};

use actix_session::{Session, SessionExt as _};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage as _, HttpRequest, HttpResponse, web};
use futures::StreamExt as _;
use serde::Deserialize;
use subtle::ConstantTimeEq as _;

use crate::html;
use crate::state::AppState;

/// The session's keys.
const OPERATOR: &str = "operator";
const CSRF: &str = "csrf";
/// When the session was last used (Unix seconds): it ends after `SESSION_IDLE` without use.
const SEEN: &str = "seen";
/// A session in use is refreshed (its cookie issued again) at most this often.
const REFRESH_EVERY: i64 = 60;
/// The CSRF header for scripts and the API.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The largest form body read to find its CSRF field.
const FORM_LIMIT: usize = 256 * 1024;

/// The session's CSRF token, made when the session has none.
pub fn csrf_token(session: &Session) -> String {
    if let Ok(Some(token)) = session.get::<String>(CSRF) {
        return token;
    }
    let token = suiteflow_crypto::generate_secret(32).expose().to_string();
    // A cookie session only fails to serialise a string if something is badly wrong; the
    // next request then makes another.
    let _ = session.insert(CSRF, &token);
    token
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Whether the session is an operator's that has not been idle for `SESSION_IDLE`. A session
/// in use is refreshed now and then, which issues its cookie again for another 8 hours.
fn logged_in(session: &Session) -> bool {
    if !session
        .get::<bool>(OPERATOR)
        .ok()
        .flatten()
        .unwrap_or(false)
    {
        return false;
    }
    let seen = session.get::<i64>(SEEN).ok().flatten().unwrap_or(0);
    let idle = now() - seen;
    if idle > crate::SESSION_IDLE.as_secs() as i64 {
        session.purge();
        return false;
    }
    if idle > REFRESH_EVERY {
        let _ = session.insert(SEEN, now());
    }
    true
}

/// Whether `given` is the session's token (compared in constant time).
fn csrf_matches(session: &Session, given: Option<&str>) -> bool {
    match (session.get::<String>(CSRF).ok().flatten(), given) {
        (Some(expected), Some(given)) => bool::from(expected.as_bytes().ct_eq(given.as_bytes())),
        _ => false,
    }
}

/// The address a request came from (behind a proxy: the proxy's; `X-Forwarded-For` is not
/// trusted, it would let a client pick its own throttle).
fn client(req: &HttpRequest) -> IpAddr {
    req.peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip())
}

pub async fn login_form(session: Session) -> HttpResponse {
    if logged_in(&session) {
        return see_other("/");
    }
    let csrf = csrf_token(&session);
    page(StatusCode::OK, html::login_page(&csrf, None))
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

pub async fn login(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    let client = client(&req);
    if !csrf_matches(&session, Some(&form.csrf)) {
        tracing::warn!(client = %client, "console login refused: missing or wrong CSRF token");
        return forbidden(&req);
    }
    if state.login_throttled(client) {
        tracing::warn!(client = %client, "console login refused: too many failed attempts");
        return HttpResponse::TooManyRequests()
            .insert_header((header::RETRY_AFTER, crate::state::LOGIN_WINDOW.as_secs()))
            .content_type("text/html; charset=utf-8")
            .body(
                html::login_page(
                    &form.csrf,
                    Some("Too many failed attempts: wait a minute and try again."),
                )
                .into_string(),
            );
    }
    let password = std::mem::take(&mut form.into_inner().password);
    let hash = state.password().clone();
    let matches = web::block(move || hash.verify(&password))
        .await
        .unwrap_or(false);
    if !matches {
        state.login_failed(client);
        tracing::warn!(client = %client, "failed console login");
        // The session is left as it was: the answer sets no cookie.
        let csrf = csrf_token(&session);
        return page(
            StatusCode::UNAUTHORIZED,
            html::login_page(&csrf, Some("That password is not right.")),
        );
    }
    session.renew();
    let fresh = suiteflow_crypto::generate_secret(32).expose().to_string();
    if session.insert(OPERATOR, true).is_err()
        || session.insert(CSRF, &fresh).is_err()
        || session.insert(SEEN, now()).is_err()
    {
        return HttpResponse::InternalServerError().finish();
    }
    tracing::info!(client = %client, "console login");
    see_other("/")
}

pub async fn logout(session: Session) -> HttpResponse {
    session.purge();
    see_other("/login")
}

/// `GET /api/v1/session`: the session's CSRF token, for scripts.
pub async fn session_token(session: Session) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "csrf": csrf_token(&session) }))
}

/// Routes anyone may reach.
fn is_public(path: &str) -> bool {
    matches!(path, "/login" | "/healthz") || path.starts_with("/static/")
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// The guard in front of every route: a session for all but the public routes, and the CSRF
/// token for every state-changing request.
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let path = req.path().to_owned();
    if is_public(&path) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let session = req.get_session();
    if !logged_in(&session) {
        let response = if is_api(&path) {
            HttpResponse::Unauthorized()
                .json(serde_json::json!({"error": "log in first (POST /login)"}))
        } else {
            see_other("/login")
        };
        return Ok(req.into_response(response));
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        let header_token = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let given = match header_token {
            Some(token) => Some(token),
            None => form_csrf(&mut req).await,
        };
        if !csrf_matches(&session, given.as_deref()) {
            tracing::warn!(path, "console request refused: missing or wrong CSRF token");
            let response = forbidden(req.request());
            return Ok(req.into_response(response));
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// The `csrf` field of a form body (the body is put back for the handler).
async fn form_csrf(req: &mut ServiceRequest) -> Option<String> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return None;
    }
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.ok()?;
        if body.len() + chunk.len() > FORM_LIMIT {
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let token = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned());
    req.set_payload(actix_web::dev::Payload::from(body));
    token
}

fn forbidden(req: &HttpRequest) -> HttpResponse {
    if is_api(req.path()) {
        HttpResponse::Forbidden().json(serde_json::json!({
            "error": format!("missing or wrong CSRF token (the `csrf` form field or the `{CSRF_HEADER}` header; GET /api/v1/session gives it)")
        }))
    } else {
        page(
            StatusCode::FORBIDDEN,
            html::error_page(
                StatusCode::FORBIDDEN,
                "This form has expired or did not come from the console: reload the page and try again.",
            ),
        )
    }
}

/// A 303 to `to`.
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// An HTML page with `status`.
pub fn page(status: StatusCode, markup: maud::Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string())
}
