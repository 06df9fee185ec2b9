//! What an operator does to connections and events, for the CLI and the console alike: the
//! rule, the change, and an audit entry naming who did it (`cli` or `console`).

use serde_json::json;
use suiteflow_crypto::{Keyring, SecretString};
use suiteflow_store::{
    Connection, ConnectionChanges, ConnectionId, ConnectionStatus, Event, EventId, SecretColumn,
    Store, StoreError, WebhookScheme,
};
use suiteflow_webhook_security::{Scheme, generate_webhook_secret};

/// Who acts, as the audit log names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Cli,
    Console,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cli => "cli",
            Self::Console => "console",
        }
    }
}

/// Why an operator's action was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The action does not apply (an archived connection, an event still in the queue, …):
    /// nothing changed.
    #[error("{0}")]
    Refused(String),
    /// No such event or connection.
    #[error("{0}")]
    NotFound(String),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Secret(String),
}

/// Records an operator's action that has no rule of its own here (a connection created or
/// changed, a webhook registered, keys rotated, a backfill or mapping applied) in the audit
/// log. `details` must not hold a secret. The action is done when this is called: a failure to
/// record it is logged (with the action and the connection) rather than returned, so it neither
/// hides what was done nor stops what follows.
pub async fn record(
    store: &Store,
    actor: Actor,
    action: &str,
    connection: Option<ConnectionId>,
    details: &serde_json::Value,
) {
    let written = async {
        let mut conn = store.get().await?;
        suiteflow_store::audit(&mut conn, actor.as_str(), action, connection, details).await
    };
    if let Err(e) = written.await {
        tracing::warn!(
            action,
            connection_id = ?connection.map(|c| c.0),
            error = %e,
            "could not record the action in the audit log"
        );
    }
}

/// Pauses or resumes a connection (archived connections stay archived).
pub async fn set_status(
    store: &Store,
    actor: Actor,
    connection: &Connection,
    status: ConnectionStatus,
) -> Result<(), AdminError> {
    if connection.status == ConnectionStatus::Archived {
        return Err(AdminError::Refused(format!(
            "connection {} is archived; archived connections stay archived (create a new one)",
            connection.id
        )));
    }
    let mut conn = store.get().await?;
    suiteflow_store::set_connection_status(&mut conn, connection.id, status).await?;
    let details = json!({"from": connection.status.as_str(), "to": status.as_str()});
    suiteflow_store::audit(
        &mut conn,
        actor.as_str(),
        "connection.status",
        Some(connection.id),
        &details,
    )
    .await?;
    Ok(())
}

/// Archives a connection (for good: it is never resumed), recorded as a status change.
pub async fn archive(
    store: &Store,
    actor: Actor,
    connection: &Connection,
) -> Result<(), AdminError> {
    let mut conn = store.get().await?;
    suiteflow_store::set_connection_status(&mut conn, connection.id, ConnectionStatus::Archived)
        .await?;
    drop(conn);
    let details = json!({"from": connection.status.as_str(), "to": "archived"});
    record(
        store,
        actor,
        "connection.status",
        Some(connection.id),
        &details,
    )
    .await;
    Ok(())
}

/// Gives the connection a new webhook secret (the old one stops verifying at once) and returns
/// it: shown once, stored only sealed.
pub async fn rotate_webhook_secret(
    store: &Store,
    keys: &Keyring,
    actor: Actor,
    connection: &Connection,
) -> Result<SecretString, AdminError> {
    if connection.status == ConnectionStatus::Archived {
        return Err(AdminError::Refused(format!(
            "connection {} is archived",
            connection.id
        )));
    }
    let scheme = match connection.webhook_scheme {
        WebhookScheme::Hmac => Scheme::Hmac,
        WebhookScheme::Standard => Scheme::Standard,
    };
    let secret = generate_webhook_secret(scheme);
    let sealed = SecretColumn::WebhookSecret
        .seal(keys, connection.id, secret.expose())
        .map_err(|e| AdminError::Secret(format!("encrypting the new secret: {e}")))?;
    let mut conn = store.get().await?;
    suiteflow_store::update_connection(
        &mut conn,
        connection.id,
        &ConnectionChanges::default().webhook_secret(sealed),
    )
    .await?
    .ok_or_else(|| AdminError::Refused(format!("unknown connection {}", connection.id)))?;
    suiteflow_store::audit(
        &mut conn,
        actor.as_str(),
        "connection.rotate_secret",
        Some(connection.id),
        &json!({}),
    )
    .await?;
    Ok(secret)
}

/// Puts an event back in the queue with its attempts reset: a finished one (done,
/// dead-lettered, skipped) or one waiting for its retry (`failed`, retried now). Returns the
/// event as it was; refused while it is queued or in flight.
pub async fn replay(store: &Store, actor: Actor, id: EventId) -> Result<Event, AdminError> {
    let mut conn = store.get().await?;
    let event = suiteflow_store::queue::get_event(&mut conn, id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("unknown event {}", id.0)))?;
    if !suiteflow_store::queue::requeue(&mut conn, id).await? {
        return Err(AdminError::Refused(format!(
            "event {} is {} and cannot be replayed (only events finished or waiting for a retry can)",
            id.0, event.status
        )));
    }
    suiteflow_store::audit(
        &mut conn,
        actor.as_str(),
        "event.replay",
        Some(event.connection_id),
        &json!({"eventId": id, "previousStatus": event.status.as_str()}),
    )
    .await?;
    Ok(event)
}

/// Replays every dead-lettered event (of one connection); returns the ids requeued. An event
/// replayed meanwhile by someone else is simply not counted.
pub async fn replay_dead_letters(
    store: &Store,
    actor: Actor,
    connection: Option<ConnectionId>,
) -> Result<Vec<EventId>, AdminError> {
    let mut conn = store.get().await?;
    let ids = suiteflow_store::queue::dead_letter_ids(&mut conn, connection).await?;
    let mut requeued = Vec::new();
    for id in ids {
        if suiteflow_store::queue::requeue(&mut conn, id).await? {
            requeued.push(id);
        }
    }
    suiteflow_store::audit(
        &mut conn,
        actor.as_str(),
        "event.replay_dead_letters",
        connection,
        &json!({"requeued": requeued.len()}),
    )
    .await?;
    Ok(requeued)
}
