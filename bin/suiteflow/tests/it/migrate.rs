use suiteflow_test_support::TestDb;

use crate::common::Env;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_twice_applies_once() {
    let env = Env::new().await;
    let db = TestDb::empty().await;
    let first = env
        .run_with(
            &["migrate", "--json"],
            &[("DATABASE_URL", Some(db.url()))],
            None,
        )
        .await
        .ok();
    assert!(!first["applied"].as_array().unwrap().is_empty(), "{first}");
    let second = env
        .run_with(
            &["migrate", "--json"],
            &[("DATABASE_URL", Some(db.url()))],
            None,
        )
        .await
        .ok();
    assert_eq!(second["applied"], serde_json::json!([]));
    let text = env
        .run_with(&["migrate"], &[("DATABASE_URL", Some(db.url()))], None)
        .await;
    text.assert_code(0);
    assert!(text.stdout.contains("up to date"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_twice_at_once_applies_each_migration_once() {
    let env = Env::new().await;
    let db = TestDb::empty().await;
    let vars = [("DATABASE_URL", Some(db.url()))];
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
