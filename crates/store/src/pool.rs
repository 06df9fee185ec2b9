//! The connection pool: diesel-async over deadpool, every connection configured on creation.

use std::time::Duration;

use diesel::ConnectionResult;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

use crate::{DatabaseConfig, StoreError};

/// A connection checked out of the pool; derefs to [`AsyncPgConnection`].
pub type PooledConnection = Object<AsyncPgConnection>;

/// The store: a pool of PostgreSQL connections. Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct Store {
    pool: Pool<AsyncPgConnection>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.pool.status();
        f.debug_struct("Store")
            .field("size", &status.size)
            .field("available", &status.available)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Builds the pool and checks out one connection, so an unreachable database is reported
    /// here rather than on the first request.
    pub async fn connect(config: &DatabaseConfig) -> Result<Self, StoreError> {
        let store = Self::connect_lazy(config)?;
        drop(store.get().await?);
        Ok(store)
    }

    /// Builds the pool without connecting; connections are opened on first use.
    pub fn connect_lazy(config: &DatabaseConfig) -> Result<Self, StoreError> {
        let setup = session_setup_sql(config.statement_timeout, &config.application_name);
        let mut manager_config = ManagerConfig::<AsyncPgConnection>::default();
        manager_config.custom_setup = Box::new(move |url| {
            let setup = setup.clone();
            let url = url.to_owned();
            Box::pin(async move { establish(&url, &setup).await })
        });
        let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
            config.url.expose(),
            manager_config,
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size.max(1))
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(10)))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Connect(e.into()))?;
        Ok(Self { pool })
    }

    /// A connection from the pool.
    pub async fn get(&self) -> Result<PooledConnection, StoreError> {
        self.pool.get().await.map_err(|e| match e {
            diesel_async::pooled_connection::deadpool::PoolError::Backend(inner) => {
                StoreError::Connect(inner.into())
            }
            other => StoreError::Pool(other.into()),
        })
    }

    /// Whether the database answers (`/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.get().await?;
        conn.batch_execute("SELECT 1").await?;
        Ok(())
    }

    /// The underlying deadpool pool (status, resizing).
    pub fn pool(&self) -> &Pool<AsyncPgConnection> {
        &self.pool
    }
}

async fn establish(url: &str, setup: &str) -> ConnectionResult<AsyncPgConnection> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    conn.batch_execute(setup)
        .await
        .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
    Ok(conn)
}

/// `SET` statements for a new session. The application name is quoted as a SQL literal.
///
/// JIT compilation is off: every statement here is short and indexed, and PostgreSQL decides to
/// compile by estimated cost, which grows with the table's statistics. Once `events` has been
/// analyzed at a realistic size, the claim's estimate passes `jit_above_cost` and each claim
/// spent about 50 ms compiling for 3 ms of work (measured by `just bench-queue`).
fn session_setup_sql(statement_timeout: Duration, application_name: &str) -> String {
    let millis = statement_timeout.as_millis().min(i32::MAX as u128);
    let name: String = application_name
        .chars()
        .filter(|c| !c.is_control())
        .take(63)
        .collect::<String>()
        .replace('\'', "''");
    format!("SET statement_timeout = {millis}; SET application_name = '{name}'; SET jit = off")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_quotes_the_application_name() {
        let sql = session_setup_sql(Duration::from_secs(5), "it's\nworker");
        assert_eq!(
            sql,
            "SET statement_timeout = 5000; SET application_name = 'it''sworker'; SET jit = off"
        );
    }
}
