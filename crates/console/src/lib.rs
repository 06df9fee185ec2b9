#![doc = include_str!("../README.md")]

pub mod api;
pub mod auth;
mod backfill;
pub mod error;
pub mod html;
mod pages;
pub mod settings;
pub mod state;
pub mod views;

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_session::SessionMiddleware;
use actix_session::config::{CookieContentSecurity, PersistentSession, TtlExtensionPolicy};
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use suiteflow_store::Store;
use suiteflow_web::CONTENT_SECURITY_POLICY;

pub use settings::ConsoleSettings;
use state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "suiteflow_console";
/// A session unused this long ends.
pub const SESSION_IDLE: Duration = Duration::from_secs(8 * 3600);
/// The purpose the session key is derived from `DATA_ENCRYPTION_KEY` for.
const SESSION_KEY_PURPOSE: &str = "console session cookie";
const STYLESHEET: &str = include_str!("../assets/console.css");

/// A built console, bound to its address but not yet serving.
pub struct Console {
    server: Server,
    addr: SocketAddr,
}

impl Console {
    /// Binds `CONSOLE_ADDR` (port 0 picks a free port) and builds the server. The database is
    /// connected lazily.
    pub fn build(settings: ConsoleSettings) -> Result<Self, std::io::Error> {
        let store = Store::connect_lazy(&settings.database)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let listener = TcpListener::bind(settings.addr)?;
        let addr = listener.local_addr()?;
        let state = AppState::new(store, &settings);
        let key = Key::from(&settings.keys.derive_key(SESSION_KEY_PURPOSE));
        let secure = settings.is_https();
        let server = HttpServer::new(move || {
            let session = SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                .cookie_name(SESSION_COOKIE.into())
                .cookie_http_only(true)
                .cookie_same_site(SameSite::Strict)
                .cookie_secure(secure)
                .cookie_content_security(CookieContentSecurity::Private)
                .session_lifecycle(
                    PersistentSession::default()
                        .session_ttl(actix_web::cookie::time::Duration::seconds(
                            SESSION_IDLE.as_secs() as i64,
                        ))
                        // The guard refreshes the session (and so the cookie) while it is used:
                        // a response that changes nothing sets no cookie.
                        .session_ttl_extension_policy(TtlExtensionPolicy::OnStateChanges),
                )
                .build();
            App::new()
                .app_data(web::Data::new(state.clone()))
                .app_data(web::FormConfig::default().limit(256 * 1024))
                .wrap(from_fn(auth::guard))
                .wrap(session)
                // Outermost, so that the guard's redirects and refusals carry them too.
                .wrap(
                    suiteflow_web::security_headers(secure)
                        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY)),
                )
                .configure(routes)
        })
        .listen(listener)?
        .shutdown_timeout(10)
        .run();
        Ok(Self { server, addr })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM or SIGINT.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Every route of the console.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::get().to(auth::login_form))
        .route("/login", web::post().to(auth::login))
        .route("/logout", web::post().to(auth::logout))
        .route("/healthz", web::get().to(healthz))
        .route("/static/console.css", web::get().to(stylesheet))
        .route("/", web::get().to(pages::overview::page))
        .route("/connections", web::get().to(pages::connections::list))
        .route(
            "/connections/{id}",
            web::get().to(pages::connections::detail),
        )
        .route(
            "/connections/{id}/check",
            web::get().to(pages::connections::run_check),
        )
        .route(
            "/connections/{id}/mapping",
            web::get().to(pages::mapping::page),
        )
        .route(
            "/connections/{id}/rotate-secret",
            web::post().to(pages::connections::rotate_secret),
        )
        .route(
            "/connections/{id}/register-webhook",
            web::post().to(pages::connections::register_webhook),
        )
        .route(
            "/connections/{id}/replay-dead-letters",
            web::get().to(pages::connections::confirm_replay),
        )
        .route(
            "/connections/{id}/replay-dead-letters",
            web::post().to(pages::connections::replay_dead_letters),
        )
        .route("/connections/{id}/backfill", web::get().to(backfill::page))
        .route(
            "/connections/{id}/backfill/plan",
            web::post().to(backfill::plan),
        )
        .route(
            "/connections/{id}/backfill/start",
            web::post().to(backfill::start_planned),
        )
        .route(
            "/connections/{id}/backfill/queue",
            web::post().to(backfill::queue),
        )
        .route(
            "/connections/{id}/{action}",
            web::post().to(pages::connections::set_status),
        )
        .route("/events", web::get().to(pages::events::list))
        .route("/events/{id}", web::get().to(pages::events::detail))
        .route("/events/{id}/replay", web::post().to(pages::events::replay))
        .service(
            web::scope("/api/v1")
                .route("/session", web::get().to(auth::session_token))
                .route("/openapi.json", web::get().to(api::openapi))
                .route("/overview", web::get().to(api::overview))
                .route("/connections", web::get().to(api::connections))
                .route("/connections/{id}", web::get().to(api::connection))
                .route(
                    "/connections/{id}/{action}",
                    web::post().to(api::set_status),
                )
                .route("/events", web::get().to(api::events))
                .route("/events/{id}", web::get().to(api::event))
                .route("/events/{id}/replay", web::post().to(api::replay)),
        );
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("cache-control", "public, max-age=3600"))
        .body(STYLESHEET)
}
