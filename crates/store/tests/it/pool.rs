use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use suiteflow_test_support::TestDb;

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

async fn show(conn: &mut suiteflow_store::AsyncPgConnection, name: &str) -> String {
    suiteflow_test_support::rows::server_setting(conn, name).await
}

#[tokio::test]
async fn every_pooled_connection_has_the_timeout_the_application_name_and_no_jit() {
    let db = TestDb::new().await;
    let store = crate::common::store(&db, 3).await;
    // Hold three connections at once so that three distinct sessions are checked.
    let mut held = Vec::new();
    let mut pids = Vec::new();
    for _ in 0..3 {
        let mut conn = store.get().await.unwrap();
        assert_eq!(show(&mut conn, "statement_timeout").await, "20s");
        assert_eq!(show(&mut conn, "application_name").await, "store-it");
        assert_eq!(show(&mut conn, "jit").await, "off");
        let pid: Setting = diesel::sql_query("SELECT pg_backend_pid()::text AS value")
            .get_result(&mut conn)
            .await
            .unwrap();
        pids.push(pid.value);
        held.push(conn);
    }
    pids.sort();
    pids.dedup();
    assert_eq!(pids.len(), 3, "three sessions");
}

#[tokio::test]
async fn an_unreachable_database_is_reported_by_connect_without_the_url() {
    let mut config = crate::common::config(&TestDb::new().await, 1);
    config.url = suiteflow_crypto::SecretString::new("postgres://u:hunter2@127.0.0.1:1/nowhere");
    let error = suiteflow_store::Store::connect(&config).await.unwrap_err();
    assert!(error.is_unavailable(), "{error:?}");
    assert!(!error.to_string().contains("hunter2"), "{error}");
}
