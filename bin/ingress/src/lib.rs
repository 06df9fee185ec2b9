#![doc = include_str!("../README.md")]

pub mod body;
pub mod commit;
pub mod error;
pub mod health;
pub mod hooks;
pub mod metrics;
pub mod settings;
pub mod state;

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use anyhow::Context as _;
use suiteflow_store::Store;

pub use settings::Settings;
pub use state::AppState;

/// How long in-flight requests may take to finish after SIGTERM.
pub const SHUTDOWN_GRACE_SECS: u64 = 30;

/// How long a client has, from the moment its connection is accepted, to send its first
/// request head. A client still sending it then is answered 408 and disconnected, so it cannot
/// hold a connection by sending a head slowly or not at all. (actix-web's default, set here so
/// that it is a decision.) The body has its own deadline, [`body::CLIENT_BODY_TIMEOUT`]; an
/// idle kept-alive connection is closed after actix-web's 5 s keep-alive. Known gap:
/// actix-http arms this timer for the first request of a connection only, so a client that
/// stalls in the head of a later request on a kept-alive connection is not timed out (the
/// ignored test `hostile::connections::a_client_that_stalls_in_a_kept_alive_head_is_disconnected`).
pub const CLIENT_HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the server waits for a client to acknowledge the closing of a connection before it
/// drops it. (actix-web's default.)
pub const CLIENT_DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// A built ingress, bound to its address but not yet serving.
pub struct Application {
    server: Server,
    addr: SocketAddr,
}

impl Application {
    /// Binds the listener (port 0 picks a free port) and builds the server. The database is
    /// connected lazily: the ingress starts, and `/readyz` says when the database answers.
    pub fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = Store::connect_lazy(&settings.database).context("building the pool")?;
        let listener = TcpListener::bind(settings.http.addr)
            .with_context(|| format!("binding {}", settings.http.addr))?;
        let addr = listener.local_addr()?;
        let state = AppState::new(
            store,
            settings.database.pool_size,
            settings.keys.clone(),
            settings.webhook.window(),
        );
        state.follow_changes(settings.database.url.expose());
        metrics::handle();
        let max_body = settings.http.max_body_bytes;
        let https = settings.public_url.is_https();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(suiteflow_web::security_headers(https))
                .app_data(web::Data::new(state.clone()))
                .app_data(web::PayloadConfig::new(max_body))
                .configure(routes)
        })
        .client_request_timeout(CLIENT_HEAD_TIMEOUT)
        .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
        .listen(listener)?
        .shutdown_timeout(SHUTDOWN_GRACE_SECS)
        .run();
        Ok(Self { server, addr })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle to stop the server gracefully (as SIGTERM does).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM or SIGINT: then stops accepting, lets in-flight requests finish and
    /// returns.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Every route of the ingress.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/hooks/smartsuite/{connection_id}/{token}",
        web::post().to(hooks::smartsuite_notification),
    )
    .route("/api/hooks/{connection_id}", web::post().to(hooks::push))
    .route("/api/health", web::get().to(health::health))
    .route("/healthz", web::get().to(health::alive))
    .route("/readyz", web::get().to(health::ready))
    .route("/metrics", web::get().to(metrics::render));
}
