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
        let admin_url = admin_url();
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = AsyncPgConnection::establish(&admin_url)
            .await
            .unwrap_or_else(|e| {
                panic!("cannot reach the test cluster at {ADMIN_URL_VARIABLE}: {e}")
            });
        diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot clone {TEMPLATE}: {e}"));
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
