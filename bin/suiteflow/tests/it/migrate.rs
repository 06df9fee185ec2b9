use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};
use suiteflow_test_support::db::database_url;

use crate::common::Env;

/// An empty database (not cloned from the migrated template), dropped by the guard.
struct EmptyDb {
    admin: String,
    name: String,
    url: String,
}

impl EmptyDb {
    async fn new(admin: &str) -> Self {
        let name = format!("m_{}", uuid::Uuid::new_v4().simple());
        let mut conn = AsyncPgConnection::establish(admin).await.unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        Self {
            admin: admin.to_string(),
            url: database_url(admin, &name),
            name,
        }
    }

    async fn drop_it(self) {
        let mut conn = AsyncPgConnection::establish(&self.admin).await.unwrap();
        diesel::sql_query(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_twice_applies_once() {
    let env = Env::new().await;
    let db = EmptyDb::new(env.db.admin_url()).await;
    let first = env
        .run_with(
            &["migrate", "--json"],
            &[("DATABASE_URL", Some(&db.url))],
            None,
        )
        .await
        .ok();
    assert!(!first["applied"].as_array().unwrap().is_empty(), "{first}");
    let second = env
        .run_with(
            &["migrate", "--json"],
            &[("DATABASE_URL", Some(&db.url))],
            None,
        )
        .await
        .ok();
    assert_eq!(second["applied"], serde_json::json!([]));
    let text = env
        .run_with(&["migrate"], &[("DATABASE_URL", Some(&db.url))], None)
        .await;
    text.assert_code(0);
    assert!(text.stdout.contains("up to date"));
    db.drop_it().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_twice_at_once_applies_each_migration_once() {
    let env = Env::new().await;
    let db = EmptyDb::new(env.db.admin_url()).await;
    let vars = [("DATABASE_URL", Some(db.url.as_str()))];
    let (a, b) = tokio::join!(
        env.run_with(&["migrate", "--json"], &vars, None),
        env.run_with(&["migrate", "--json"], &vars, None),
    );
    let (a, b) = (a.ok(), b.ok());
    let a = a["applied"].as_array().unwrap().clone();
    let b = b["applied"].as_array().unwrap().clone();
    assert!(
        a.is_empty() || b.is_empty(),
        "both applied migrations: {a:?} {b:?}"
    );
    assert!(!(a.is_empty() && b.is_empty()));
    let again = env.run_with(&["migrate", "--json"], &vars, None).await.ok();
    assert_eq!(again["applied"], serde_json::json!([]));
    db.drop_it().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_is_an_operational_failure() {
    let env = Env::new().await;
    let run = env
        .run_with(
            &["connection", "list"],
            &[(
                "DATABASE_URL",
                Some("postgres://nobody:pw@127.0.0.1:1/none"),
            )],
            None,
        )
        .await;
    run.assert_code(1);
    assert!(run.stderr.contains("database"), "{}", run.stderr);
    assert!(!run.all().contains("pw@"));
}
