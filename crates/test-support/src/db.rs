//! A fresh database per test, cloned from the migrated template that `scripts/with-postgres.sh`
//! prepares, and dropped when the test ends.

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// The admin URL of the test cluster, set by `scripts/with-postgres.sh` (`just test`).
pub const ADMIN_URL_VARIABLE: &str = "SUITEFLOW_TEST_PG";
/// The migrated database every test database is cloned from.
pub const TEMPLATE: &str = "suiteflow_template";

/// One test's own database. Dropped (`DROP DATABASE … WITH (FORCE)`) with the value.
pub struct TestDb {
    name: String,
    url: String,
    admin_url: String,
}

impl TestDb {
    /// Creates a database cloned from the migrated template.
    ///
    /// # Panics
    /// When the test cluster is not running: run the tests with `just test`.
    pub async fn new() -> Self {
        Self::create(&format!("TEMPLATE {TEMPLATE}")).await
    }

    /// Creates an empty database: no tables, migrations not applied (for migration tests).
    ///
    /// # Panics
    /// When the test cluster is not running: run the tests with `just test`.
    pub async fn empty() -> Self {
        Self::create("").await
    }

    async fn create(options: &str) -> Self {
        let admin_url = admin_url();
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = AsyncPgConnection::establish(&admin_url)
            .await
            .unwrap_or_else(|e| {
                panic!("cannot reach the test cluster at {ADMIN_URL_VARIABLE}: {e}")
            });
        diesel::sql_query(format!("CREATE DATABASE {name} {options}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create database {name} ({options}): {e}"));
        let url = database_url(&admin_url, &name);
        Self {
            name,
            url,
            admin_url,
        }
    }

    /// The URL of this test's database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The name of this test's database.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The admin URL of the cluster (to create further databases or inspect the server).
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// A connection of its own to this test's database (no pool, no session settings).
    pub async fn connect(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach test database {}: {e}", self.name))
    }

    /// Takes the database away as an outage would: new connections are refused and the open
    /// ones are ended. [`allow_connections`](Self::allow_connections) brings it back.
    pub async fn refuse_connections(&self) {
        let mut admin = self.admin().await;
        let name = &self.name;
        for sql in [
            format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"),
            format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            ),
        ] {
            diesel::sql_query(sql)
                .execute(&mut admin)
                .await
                .unwrap_or_else(|e| panic!("cannot take {name} away: {e}"));
        }
    }

    /// Accepts connections again after [`refuse_connections`](Self::refuse_connections).
    pub async fn allow_connections(&self) {
        let name = &self.name;
        diesel::sql_query(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
            .execute(&mut self.admin().await)
            .await
            .unwrap_or_else(|e| panic!("cannot bring {name} back: {e}"));
    }

    async fn admin(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach the test cluster: {e}"))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop runs outside async code (or inside a runtime that may be shutting down), so the
        // database is dropped from a plain thread with a blocking connection of its own.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || blocking::drop_database(&admin_url, &name)).join();
        if !matches!(dropped, Ok(Ok(()))) && !std::thread::panicking() {
            eprintln!("warning: test database {} was not dropped", self.name);
        }
    }
}

/// The admin URL of the test cluster.
///
/// # Panics
/// When `SUITEFLOW_TEST_PG` is not set.
pub fn admin_url() -> String {
    std::env::var(ADMIN_URL_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{ADMIN_URL_VARIABLE} is not set: run the tests with `just test`, which starts a \
             private PostgreSQL (scripts/with-postgres.sh)"
        )
    })
}

/// The URL of database `name` on the cluster of `admin_url`.
pub fn database_url(admin_url: &str, name: &str) -> String {
    match admin_url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => format!("{admin_url}/{name}"),
    }
}

mod blocking {
    //! A blocking connection, for `Drop`, where nothing can be awaited.
    use diesel::{Connection, RunQueryDsl};
    use diesel_async::AsyncPgConnection;
    use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;

    pub(super) fn drop_database(admin_url: &str, name: &str) -> Result<(), String> {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(admin_url)
            .map_err(|e| e.to_string())?;
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}
