//! The JSON API under `/api/v1`, the data the pages show: the same session and CSRF rules
//! (a state-changing request carries `x-csrf-token`), requests validated as the CLI validates
//! them, errors as `{"error": "…"}`. `GET /api/v1/openapi.json` describes it (generated from
//! this code).

use actix_web::{HttpResponse, web};
use serde::Serialize;
use suiteflow_store::EventId;
use suiteflow_sync::admin::{self, Actor};
use utoipa::{OpenApi, ToSchema};

use crate::error::{ApiError, ConsoleError};
use crate::state::AppState;
use crate::views::{
    self, ConnectionDetail, ConnectionSummary, EventDetail, EventPage, EventQuery, EventRow,
    Minute, Overview,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "suiteflow console API",
        description = "The operators' console's data. Log in with POST /login (form fields \
                       `password` and `csrf`) to get the session cookie; send the session's \
                       CSRF token (GET /api/v1/session) as `x-csrf-token` with every POST."
    ),
    paths(
        overview,
        connections,
        connection,
        set_status,
        events,
        event,
        replay,
        session,
        openapi
    ),
    components(schemas(
        Overview,
        Minute,
        views::WorkerView,
        ConnectionSummary,
        ConnectionDetail,
        views::WebhookHealth,
        views::Budget,
        EventRow,
        EventPage,
        EventDetail,
        StatusChanged,
        Replayed,
        Csrf,
        ErrorBody
    ))
)]
struct ApiDoc;

/// `{"error": "…"}`.
#[derive(Serialize, ToSchema)]
struct ErrorBody {
    error: String,
}

/// The queue and the connections at a glance.
#[utoipa::path(get, path = "/api/v1/overview", responses(
    (status = 200, body = Overview),
    (status = 401, description = "not logged in", body = ErrorBody)
))]
pub async fn overview(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let overview = state.overview(views::overview(state.store())).await?;
    Ok(HttpResponse::Ok().json(&*overview))
}

/// Every connection.
#[utoipa::path(get, path = "/api/v1/connections", responses(
    (status = 200, body = [ConnectionSummary]),
    (status = 401, description = "not logged in", body = ErrorBody)
))]
pub async fn connections(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let connections = views::connections(state.store()).await?;
    Ok(HttpResponse::Ok().json(connections))
}

fn connection_id(text: &str) -> Result<suiteflow_store::ConnectionId, ConsoleError> {
    text.parse()
        .map_err(|_| ConsoleError::BadRequest(format!("'{text}' is not a connection id")))
}

/// One connection, with its recent events.
#[utoipa::path(get, path = "/api/v1/connections/{id}",
    params(("id" = String, Path, description = "connection id")),
    responses(
        (status = 200, body = ConnectionDetail),
        (status = 400, description = "not a connection id", body = ErrorBody),
        (status = 404, description = "no such connection", body = ErrorBody)
    ))]
pub async fn connection(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = connection_id(&id)?;
    Ok(HttpResponse::Ok().json(views::connection(state.store(), id).await?))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct StatusChanged {
    id: String,
    previous_status: String,
    status: String,
}

/// Pauses (`pause`) or resumes (`resume`) a connection.
#[utoipa::path(post, path = "/api/v1/connections/{id}/{action}",
    params(
        ("id" = String, Path, description = "connection id"),
        ("action" = String, Path, description = "`pause` or `resume`"),
        ("x-csrf-token" = String, Header, description = "the session's CSRF token")
    ),
    responses(
        (status = 200, body = StatusChanged),
        (status = 403, description = "no CSRF token", body = ErrorBody),
        (status = 404, description = "no such connection or action", body = ErrorBody),
        (status = 409, description = "the connection is archived", body = ErrorBody)
    ))]
pub async fn set_status(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, action) = path.into_inner();
    let id = connection_id(&id)?;
    let status = views::parse_target_status(&action)
        .ok_or_else(|| ConsoleError::NotFound(format!("no action {action}: pause or resume")))?;
    let connection = views::connection_row(state.store(), id).await?;
    admin::set_status(state.store(), Actor::Console, &connection, status).await?;
    Ok(HttpResponse::Ok().json(StatusChanged {
        id: id.to_string(),
        previous_status: connection.status.as_str().to_string(),
        status: status.as_str().to_string(),
    }))
}

/// Events, newest first, 50 a page; `nextCursor` gives the next page.
#[utoipa::path(get, path = "/api/v1/events", params(EventQuery), responses(
    (status = 200, body = EventPage),
    (status = 400, description = "a filter that is not valid", body = ErrorBody)
))]
pub async fn events(
    state: web::Data<AppState>,
    query: web::Query<EventQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.filter()?;
    Ok(HttpResponse::Ok().json(views::events(state.store(), &filter).await?))
}

fn event_id(text: &str) -> Result<EventId, ConsoleError> {
    text.parse()
        .map_err(|_| ConsoleError::BadRequest(format!("'{text}' is not an event id")))
}

/// One event with its payload, error detail, warnings and Webflow item.
#[utoipa::path(get, path = "/api/v1/events/{id}",
    params(("id" = String, Path, description = "event id")),
    responses(
        (status = 200, body = EventDetail),
        (status = 400, description = "not an event id", body = ErrorBody),
        (status = 404, description = "no such event", body = ErrorBody)
    ))]
pub async fn event(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = event_id(&id)?;
    Ok(HttpResponse::Ok().json(views::event(state.store(), id).await?))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct Replayed {
    id: String,
    previous_status: String,
    status: String,
}

/// Puts a finished event back in the queue, its attempts reset.
#[utoipa::path(post, path = "/api/v1/events/{id}/replay",
    params(
        ("id" = String, Path, description = "event id"),
        ("x-csrf-token" = String, Header, description = "the session's CSRF token")
    ),
    responses(
        (status = 200, body = Replayed),
        (status = 403, description = "no CSRF token", body = ErrorBody),
        (status = 404, description = "no such event", body = ErrorBody),
        (status = 409, description = "the event is queued or in flight", body = ErrorBody)
    ))]
pub async fn replay(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = event_id(&id)?;
    let before = admin::replay(state.store(), Actor::Console, id).await?;
    Ok(HttpResponse::Ok().json(Replayed {
        id: id.0.to_string(),
        previous_status: before.status.as_str().to_string(),
        status: "queued".into(),
    }))
}

#[derive(Serialize, ToSchema)]
struct Csrf {
    csrf: String,
}

/// The session's CSRF token.
#[utoipa::path(get, path = "/api/v1/session", responses((status = 200, body = Csrf)))]
#[allow(dead_code)] // documents crate::auth::session_token, which serves it
fn session() {}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", responses((status = 200, description = "OpenAPI 3")))]
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

/// The OpenAPI document (for tests and tools).
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
