//! Connections: load, create, update, status and health.
//!
//! Secrets arrive and leave sealed ([`Sealed`]: base64 ciphertext + base64 IV); this crate never
//! sees a plaintext secret.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::OffsetDateTime;

use crate::schema::connections;
use crate::{ConnectionId, ConnectionStatus, StoreError, WebhookScheme};

/// A sealed secret as stored: base64 ciphertext and base64 12-byte IV (AES-256-GCM). `Debug`
/// shows neither.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    pub ciphertext: String,
    pub iv: String,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealed(***)")
    }
}

/// A row of `connections`, with its sealed secrets.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = connections, check_for_backend(diesel::pg::Pg))]
pub struct Connection {
    pub id: ConnectionId,
    pub name: String,
    pub status: ConnectionStatus,
    pub smartsuite_account_id: String,
    pub smartsuite_table_id: String,
    pub smartsuite_solution_id: Option<String>,
    #[diesel(embed)]
    pub smartsuite_api_key: SealedApiKey,
    pub webflow_site_id: String,
    pub webflow_collection_id: String,
    #[diesel(embed)]
    pub webflow_token: SealedWebflowToken,
    pub webhook_scheme: WebhookScheme,
    #[diesel(embed)]
    pub webhook_secret: SealedWebhookSecret,
    /// Id of the data key that sealed this connection's secrets.
    pub encryption_key_id: String,
    pub smartsuite_webhook_id: Option<String>,
    /// SHA-256 (lowercase hex) of the SmartSuite notification URL token.
    pub smartsuite_webhook_token_hash: Option<String>,
    pub smartsuite_events_cursor: Option<String>,
    pub smartsuite_webhook_kept_alive_at: Option<OffsetDateTime>,
    pub rate_limit_per_min: i32,
    pub max_retries: i32,
    pub retry_backoff_ms: i32,
    /// A record's event waits until the record's newest event is this old (debounce).
    pub sync_delay_ms: i32,
    /// Fingerprints of the Webflow token and the SmartSuite API key: the names of their
    /// shared rate-limit buckets (never the credentials).
    pub webflow_token_fingerprint: Option<String>,
    pub smartsuite_key_fingerprint: Option<String>,
    pub last_success_at: Option<OffsetDateTime>,
    pub last_error_at: Option<OffsetDateTime>,
    pub last_error_message: Option<String>,
    pub consecutive_errors: i32,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

macro_rules! sealed_columns {
    ($name:ident, $ciphertext:ident, $iv:ident) => {
        /// A sealed secret column pair of `connections`.
        #[derive(Clone, PartialEq, Eq, Queryable, Selectable)]
        #[diesel(table_name = connections, check_for_backend(diesel::pg::Pg))]
        pub struct $name {
            #[diesel(column_name = $ciphertext)]
            pub ciphertext: String,
            #[diesel(column_name = $iv)]
            pub iv: String,
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(***)"))
            }
        }

        impl From<$name> for Sealed {
            fn from(s: $name) -> Self {
                Sealed {
                    ciphertext: s.ciphertext,
                    iv: s.iv,
                }
            }
        }

        impl $name {
            /// As a plain [`Sealed`] value.
            pub fn sealed(&self) -> Sealed {
                Sealed {
                    ciphertext: self.ciphertext.clone(),
                    iv: self.iv.clone(),
                }
            }
        }
    };
}

sealed_columns!(
    SealedApiKey,
    smartsuite_api_key_ciphertext,
    smartsuite_api_key_iv
);
sealed_columns!(
    SealedWebflowToken,
    webflow_token_ciphertext,
    webflow_token_iv
);
sealed_columns!(
    SealedWebhookSecret,
    webhook_secret_ciphertext,
    webhook_secret_iv
);

/// A connection to create. The id is chosen by the caller, because the secrets' associated
/// data includes it (seal first, then insert).
#[derive(Debug, Clone)]
pub struct NewConnection {
    pub id: ConnectionId,
    pub name: String,
    pub status: ConnectionStatus,
    pub smartsuite_account_id: String,
    pub smartsuite_table_id: String,
    pub smartsuite_solution_id: Option<String>,
    pub smartsuite_api_key: Sealed,
    pub webflow_site_id: String,
    pub webflow_collection_id: String,
    pub webflow_token: Sealed,
    pub webhook_scheme: WebhookScheme,
    pub webhook_secret: Sealed,
    pub encryption_key_id: String,
    pub rate_limit_per_min: i32,
    pub max_retries: i32,
    pub retry_backoff_ms: i32,
    pub sync_delay_ms: i32,
}

/// Creates a connection and returns it.
pub async fn create_connection(
    conn: &mut AsyncPgConnection,
    new: &NewConnection,
) -> Result<Connection, StoreError> {
    use connections::dsl as c;
    Ok(diesel::insert_into(connections::table)
        .values((
            c::id.eq(new.id),
            c::name.eq(&new.name),
            c::status.eq(new.status),
            c::smartsuite_account_id.eq(&new.smartsuite_account_id),
            c::smartsuite_table_id.eq(&new.smartsuite_table_id),
            c::smartsuite_solution_id.eq(new.smartsuite_solution_id.as_deref()),
            c::smartsuite_api_key_ciphertext.eq(&new.smartsuite_api_key.ciphertext),
            c::smartsuite_api_key_iv.eq(&new.smartsuite_api_key.iv),
            c::webflow_site_id.eq(&new.webflow_site_id),
            c::webflow_collection_id.eq(&new.webflow_collection_id),
            c::webflow_token_ciphertext.eq(&new.webflow_token.ciphertext),
            c::webflow_token_iv.eq(&new.webflow_token.iv),
            c::webhook_scheme.eq(new.webhook_scheme),
            c::webhook_secret_ciphertext.eq(&new.webhook_secret.ciphertext),
            c::webhook_secret_iv.eq(&new.webhook_secret.iv),
            c::encryption_key_id.eq(&new.encryption_key_id),
            c::rate_limit_per_min.eq(new.rate_limit_per_min),
            c::max_retries.eq(new.max_retries),
            c::retry_backoff_ms.eq(new.retry_backoff_ms),
            c::sync_delay_ms.eq(new.sync_delay_ms),
        ))
        .returning(Connection::as_returning())
        .get_result(conn)
        .await?)
}

/// Loads a connection by id, with its sealed secrets.
pub async fn get_connection(
    conn: &mut AsyncPgConnection,
    id: ConnectionId,
) -> Result<Option<Connection>, StoreError> {
    Ok(connections::table
        .find(id)
        .select(Connection::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Loads the connection whose SmartSuite webhook is `webhook_id`.
pub async fn get_connection_by_webhook(
    conn: &mut AsyncPgConnection,
    webhook_id: &str,
) -> Result<Option<Connection>, StoreError> {
    Ok(connections::table
        .filter(connections::smartsuite_webhook_id.eq(webhook_id))
        .select(Connection::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// All connections, oldest first.
pub async fn list_connections(conn: &mut AsyncPgConnection) -> Result<Vec<Connection>, StoreError> {
    Ok(connections::table
        .order(connections::created_at.asc())
        .select(Connection::as_select())
        .load(conn)
        .await?)
}

/// Changes to a connection; `None` leaves a column as it is. For a nullable column,
/// `Some(None)` clears it.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = connections)]
pub struct ConnectionChanges {
    pub name: Option<String>,
    pub status: Option<ConnectionStatus>,
    pub smartsuite_account_id: Option<String>,
    pub smartsuite_table_id: Option<String>,
    pub smartsuite_solution_id: Option<Option<String>>,
    pub smartsuite_api_key_ciphertext: Option<String>,
    pub smartsuite_api_key_iv: Option<String>,
    pub webflow_site_id: Option<String>,
    pub webflow_collection_id: Option<String>,
    pub webflow_token_ciphertext: Option<String>,
    pub webflow_token_iv: Option<String>,
    pub webhook_scheme: Option<WebhookScheme>,
    pub webhook_secret_ciphertext: Option<String>,
    pub webhook_secret_iv: Option<String>,
    pub encryption_key_id: Option<String>,
    pub smartsuite_webhook_id: Option<Option<String>>,
    pub smartsuite_webhook_token_hash: Option<Option<String>>,
    pub smartsuite_events_cursor: Option<Option<String>>,
    pub smartsuite_webhook_kept_alive_at: Option<Option<OffsetDateTime>>,
    pub rate_limit_per_min: Option<i32>,
    pub max_retries: Option<i32>,
    pub retry_backoff_ms: Option<i32>,
    pub sync_delay_ms: Option<i32>,
}

impl ConnectionChanges {
    /// Replaces the SmartSuite API key.
    pub fn smartsuite_api_key(mut self, sealed: Sealed) -> Self {
        self.smartsuite_api_key_ciphertext = Some(sealed.ciphertext);
        self.smartsuite_api_key_iv = Some(sealed.iv);
        self
    }

    /// Replaces the Webflow token.
    pub fn webflow_token(mut self, sealed: Sealed) -> Self {
        self.webflow_token_ciphertext = Some(sealed.ciphertext);
        self.webflow_token_iv = Some(sealed.iv);
        self
    }

    /// Replaces the webhook secret.
    pub fn webhook_secret(mut self, sealed: Sealed) -> Self {
        self.webhook_secret_ciphertext = Some(sealed.ciphertext);
        self.webhook_secret_iv = Some(sealed.iv);
        self
    }
}

/// Applies `changes`; returns the updated connection, `None` when there is no such connection.
pub async fn update_connection(
    conn: &mut AsyncPgConnection,
    id: ConnectionId,
    changes: &ConnectionChanges,
) -> Result<Option<Connection>, StoreError> {
    let result = diesel::update(connections::table.find(id))
        .set(changes)
        .returning(Connection::as_returning())
        .get_result(conn)
        .await;
    match result {
        // Nothing to change: just load it.
        Err(diesel::result::Error::QueryBuilderError(_)) => get_connection(conn, id).await,
        other => Ok(other.optional()?),
    }
}

/// Sets a connection's status; `false` when there is no such connection.
pub async fn set_connection_status(
    conn: &mut AsyncPgConnection,
    id: ConnectionId,
    status: ConnectionStatus,
) -> Result<bool, StoreError> {
    let updated = diesel::update(connections::table.find(id))
        .set(connections::status.eq(status))
        .execute(conn)
        .await?;
    Ok(updated == 1)
}

/// Health after a successful event: `last_success_at` now, error streak reset.
pub async fn record_connection_success(
    conn: &mut AsyncPgConnection,
    id: ConnectionId,
) -> Result<(), StoreError> {
    diesel::update(connections::table.find(id))
        .set((
            connections::last_success_at.eq(diesel::dsl::now),
            connections::consecutive_errors.eq(0),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Health after a failed event: `last_error_at` now, the message kept (it must not contain
/// secrets), error streak + 1. With `status`, the connection also changes status (a
/// credentials error puts it in `error`). Returns the new streak.
pub async fn record_connection_error(
    conn: &mut AsyncPgConnection,
    id: ConnectionId,
    message: &str,
    status: Option<ConnectionStatus>,
) -> Result<i32, StoreError> {
    let target = connections::table.find(id);
    let health = (
        connections::last_error_at.eq(diesel::dsl::now),
        connections::last_error_message.eq(message),
        connections::consecutive_errors.eq(connections::consecutive_errors + 1),
    );
    let streak: Option<i32> = match status {
        Some(status) => diesel::update(target)
            .set((health, connections::status.eq(status)))
            .returning(connections::consecutive_errors)
            .get_result(conn)
            .await
            .optional()?,
        None => diesel::update(target)
            .set(health)
            .returning(connections::consecutive_errors)
            .get_result(conn)
            .await
            .optional()?,
    };
    Ok(streak.unwrap_or(0))
}

/// Stores the SmartSuite events cursor after a pull (in the pull's transaction, together with
/// the record events it enqueued).
pub async fn set_events_cursor(
    conn: &mut AsyncPgConnection,
    id: ConnectionId,
    cursor: &str,
) -> Result<(), StoreError> {
    diesel::update(connections::table.find(id))
        .set(connections::smartsuite_events_cursor.eq(cursor))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a keep-alive of the connection's SmartSuite webhook.
pub async fn record_keep_alive(
    conn: &mut AsyncPgConnection,
    id: ConnectionId,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    diesel::update(connections::table.find(id))
        .set(connections::smartsuite_webhook_kept_alive_at.eq(at))
        .execute(conn)
        .await?;
    Ok(())
}

/// Connections with a SmartSuite webhook not kept alive since `before` (or never), oldest
/// first, at most `limit`.
pub async fn connections_due_for_keep_alive(
    conn: &mut AsyncPgConnection,
    before: OffsetDateTime,
    limit: i64,
) -> Result<Vec<Connection>, StoreError> {
    Ok(connections::table
        .filter(connections::smartsuite_webhook_id.is_not_null())
        .filter(connections::status.ne(ConnectionStatus::Archived))
        .filter(
            connections::smartsuite_webhook_kept_alive_at
                .is_null()
                .or(connections::smartsuite_webhook_kept_alive_at.lt(before)),
        )
        .order(
            connections::smartsuite_webhook_kept_alive_at
                .asc()
                .nulls_first(),
        )
        .limit(limit)
        .select(Connection::as_select())
        .load(conn)
        .await?)
}

/// How many connections are in each status (statuses with none are included with 0).
pub async fn count_connections_by_status(
    conn: &mut AsyncPgConnection,
) -> Result<Vec<(ConnectionStatus, i64)>, StoreError> {
    let counted: Vec<(ConnectionStatus, i64)> = connections::table
        .group_by(connections::status)
        .select((connections::status, diesel::dsl::count_star()))
        .load(conn)
        .await?;
    Ok(ConnectionStatus::ALL
        .iter()
        .map(|s| {
            let n = counted.iter().find(|(c, _)| c == s).map_or(0, |(_, n)| *n);
            (*s, n)
        })
        .collect())
}
