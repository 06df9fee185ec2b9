//! `GET /api/health` (status, database, queue depth and oldest age, the newest worker heartbeat,
//! connections by status), `GET /healthz`, `GET /readyz`.

use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};
use time::format_description::well_known::Rfc3339;

use crate::state::AppState;

/// `GET /healthz`: the process is alive.
pub async fn alive() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match state.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: database unavailable");
            HttpResponse::ServiceUnavailable().json(json!({ "status": "unavailable" }))
        }
    }
}

/// `GET /api/health`: database, queue depth, oldest event age (seconds), the newest worker
/// heartbeat (`workerLastRun`) and connections by status; 503 when the database is down.
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    match checks(&state).await {
        Ok(checks) => HttpResponse::Ok().json(json!({
            "status": "healthy",
            "timestamp": now(),
            "checks": checks,
        })),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unavailable");
            HttpResponse::ServiceUnavailable().json(json!({
                "status": "unhealthy",
                "timestamp": now(),
                "error": "database unavailable",
            }))
        }
    }
}

async fn checks(state: &AppState) -> Result<Value, suiteflow_store::StoreError> {
    let mut conn = state.store.get().await?;
    let queue = suiteflow_store::queue::queue_stats(&mut conn).await?;
    let worker_seen = suiteflow_store::worker_last_seen(&mut conn).await?;
    let by_status = suiteflow_store::count_connections_by_status(&mut conn).await?;
    let connections: Map<String, Value> = by_status
        .into_iter()
        .map(|(status, n)| (status.as_str().to_string(), json!(n)))
        .collect();
    Ok(json!({
        "database": "connected",
        "queueDepth": queue.depth,
        "oldestEventAge": queue.oldest_age.map_or(0, |age| age.as_secs()),
        // The newest worker heartbeat: written every few seconds by a running worker, idle or
        // not.
        "workerLastRun": worker_seen.and_then(|at| at.format(&Rfc3339).ok()),
        "connections": connections,
    }))
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}
