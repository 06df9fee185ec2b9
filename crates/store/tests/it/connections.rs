use serde_json::json;
use suiteflow_store::{
    ConnectionChanges, ConnectionStatus, NewMapping, StoreError, StoredDeleteBehavior, audit,
    count_connections_by_status, create_connection, get_connection, get_connection_by_webhook,
    get_mapping, latest_audit, record_connection_error, record_connection_success,
    set_connection_status, set_events_cursor, set_mapping, update_connection,
};
use suiteflow_test_support::TestDb;

use crate::common;

#[tokio::test]
async fn a_connection_round_trips_with_its_sealed_secrets() {
    let db = TestDb::new().await;
    let store = common::store(&db, 1).await;
    let mut conn = store.get().await.unwrap();
    let new = common::new_connection("shop");
    let created = create_connection(&mut conn, &new).await.unwrap();
    assert_eq!(created.id, new.id);
    assert_eq!(created.status, ConnectionStatus::Active);
    assert_eq!(created.smartsuite_api_key.sealed(), new.smartsuite_api_key);
    assert_eq!(created.webflow_token.sealed(), new.webflow_token);
    assert_eq!(created.webhook_secret.sealed(), new.webhook_secret);
    assert!(
        !format!("{created:?}").contains("ct-ss"),
        "Debug hides sealed values"
    );

    let loaded = get_connection(&mut conn, new.id).await.unwrap().unwrap();
    assert_eq!(loaded, created);
    assert_eq!(
        get_connection(&mut conn, suiteflow_store::ConnectionId::new_random())
            .await
            .unwrap(),
        None
    );

    let token_hash = "a".repeat(64);
    let changes = ConnectionChanges {
        name: Some("shop 2".into()),
        smartsuite_webhook_id: Some(Some("wh-1".into())),
        smartsuite_webhook_token_hash: Some(Some(token_hash.clone())),
        ..Default::default()
    }
    .webflow_token(common::sealed("wf2"));
    let updated = update_connection(&mut conn, new.id, &changes)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.name, "shop 2");
    assert_eq!(updated.webflow_token.sealed(), common::sealed("wf2"));
    assert_eq!(
        updated.smartsuite_webhook_token_hash.as_deref(),
        Some(token_hash.as_str())
    );
    assert!(
        updated.updated_at > created.updated_at,
        "updated_at is maintained"
    );
    let by_webhook = get_connection_by_webhook(&mut conn, "wh-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_webhook.id, new.id);
    // An empty change set changes nothing and still answers.
    let same = update_connection(&mut conn, new.id, &ConnectionChanges::default())
        .await
        .unwrap();
    assert_eq!(same.unwrap().name, "shop 2");

    // The token hash must be a SHA-256 hex digest, never the token itself.
    let bad = ConnectionChanges {
        smartsuite_webhook_token_hash: Some(Some("the-token".into())),
        ..Default::default()
    };
    assert!(matches!(
        update_connection(&mut conn, new.id, &bad).await,
        Err(StoreError::Query(_))
    ));

    set_events_cursor(&mut conn, new.id, "cursor-9")
        .await
        .unwrap();
    let loaded = get_connection(&mut conn, new.id).await.unwrap().unwrap();
    assert_eq!(loaded.smartsuite_events_cursor.as_deref(), Some("cursor-9"));
}

#[tokio::test]
async fn health_and_status_counts() {
    let db = TestDb::new().await;
    let store = common::store(&db, 1).await;
    let mut conn = store.get().await.unwrap();
    let a = common::connection(&mut conn).await;
    let b = common::connection(&mut conn).await;
    common::connection(&mut conn).await;

    assert_eq!(
        record_connection_error(&mut conn, a, "503", None)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        record_connection_error(&mut conn, a, "401", Some(ConnectionStatus::Error))
            .await
            .unwrap(),
        2
    );
    let loaded = get_connection(&mut conn, a).await.unwrap().unwrap();
    assert_eq!(loaded.status, ConnectionStatus::Error);
    assert_eq!(loaded.last_error_message.as_deref(), Some("401"));
    assert!(loaded.last_error_at.is_some());
    record_connection_success(&mut conn, a).await.unwrap();
    let loaded = get_connection(&mut conn, a).await.unwrap().unwrap();
    assert_eq!(loaded.consecutive_errors, 0);
    assert!(loaded.last_success_at.is_some());

    set_connection_status(&mut conn, b, ConnectionStatus::Paused)
        .await
        .unwrap();
    let counts = count_connections_by_status(&mut conn).await.unwrap();
    assert_eq!(
        counts,
        vec![
            (ConnectionStatus::Active, 1),
            (ConnectionStatus::Paused, 1),
            (ConnectionStatus::Error, 1),
            (ConnectionStatus::Archived, 0),
        ]
    );

    audit(
        &mut conn,
        "cli",
        "connection.created",
        None,
        &json!({"name": "a"}),
    )
    .await
    .unwrap();
    let last = audit(
        &mut conn,
        "console",
        "connection.created",
        Some(a),
        &json!({}),
    )
    .await
    .unwrap();
    let entry = latest_audit(&mut conn, "connection.created")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((entry.id, entry.actor.as_str()), (last, "console"));
    assert_eq!(latest_audit(&mut conn, "nothing").await.unwrap(), None);
}

#[tokio::test]
async fn a_mapping_is_versioned() {
    let db = TestDb::new().await;
    let store = common::store(&db, 1).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;
    assert_eq!(get_mapping(&mut conn, connection).await.unwrap(), None);

    let mut mapping = NewMapping {
        field_map: json!({"name": {"type": "direct", "source": "title"}}),
        slug_template: Some("{{title}}".into()),
        status_behavior: None,
        delete_behavior: StoredDeleteBehavior::Archive,
        required_fields: vec!["name".into()],
        match_rule: None,
        transliterate_slugs: true,
    };
    let v1 = set_mapping(&mut conn, connection, &mapping).await.unwrap();
    assert_eq!(v1.version, 1);
    assert_eq!(v1.required_fields, vec!["name".to_string()]);
    assert!(v1.transliterate_slugs);
    mapping.delete_behavior = StoredDeleteBehavior::Unpublish;
    mapping.transliterate_slugs = false;
    let v2 = set_mapping(&mut conn, connection, &mapping).await.unwrap();
    assert_eq!(
        (v2.version, v2.delete_behavior, v2.transliterate_slugs),
        (2, StoredDeleteBehavior::Unpublish, false)
    );
    assert_eq!(
        get_mapping(&mut conn, connection).await.unwrap().unwrap(),
        v2
    );

    // A field map must be an object.
    mapping.field_map = json!([1, 2]);
    assert!(set_mapping(&mut conn, connection, &mapping).await.is_err());
}

/// The mappings stored before `transliterateSlugs` existed keep their slugs: the migration
/// leaves them off. A mapping inserted afterwards by a writer that does not know the column
/// (the previous release, while this one rolls out) is on, as a new mapping is, and an
/// update that leaves the column out keeps it.
#[tokio::test]
async fn mappings_stored_before_the_transliteration_option_are_off_and_later_ones_on() {
    use diesel_async::RunQueryDsl as _;
    use diesel_migrations::MigrationHarness as _;

    const OPTION: &str = "2026-12-02-000009";
    let db = TestDb::empty().await;
    let url = db.url().to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = <diesel_async::async_connection_wrapper::AsyncConnectionWrapper<
            suiteflow_store::AsyncPgConnection,
        > as diesel::Connection>::establish(&url)
        .unwrap();
        let pending = conn
            .pending_migrations(suiteflow_store::MIGRATIONS)
            .unwrap();
        let before: Vec<_> = pending
            .iter()
            .filter(|m| m.name().to_string().as_str() < OPTION)
            .collect();
        assert!(before.len() < pending.len(), "no migration {OPTION}");
        for migration in before {
            conn.run_migration(&**migration).unwrap();
        }
    })
    .await
    .unwrap();

    let store = common::store(&db, 1).await;
    let mut conn = store.get().await.unwrap();
    let old = common::connection(&mut conn).await;
    let insert = |id: suiteflow_store::ConnectionId| {
        diesel::sql_query(
            "INSERT INTO mappings (connection_id, field_map, slug_template) \
             VALUES ($1, '{\"name\": {\"type\": \"direct\", \"source\": \"title\"}}', '{{title}}')",
        )
        .bind::<diesel::sql_types::Uuid, _>(id.0)
    };
    insert(old).execute(&mut conn).await.unwrap();

    suiteflow_store::run_migrations(db.url()).await.unwrap();
    let stored = get_mapping(&mut conn, old).await.unwrap().unwrap();
    assert!(!stored.transliterate_slugs);
    // An update that leaves the column out keeps it off.
    diesel::sql_query("UPDATE mappings SET version = version + 1 WHERE connection_id = $1")
        .bind::<diesel::sql_types::Uuid, _>(old.0)
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(
        !get_mapping(&mut conn, old)
            .await
            .unwrap()
            .unwrap()
            .transliterate_slugs
    );

    let new = create_connection(&mut conn, &common::new_connection("new"))
        .await
        .unwrap()
        .id;
    insert(new).execute(&mut conn).await.unwrap();
    assert!(
        get_mapping(&mut conn, new)
            .await
            .unwrap()
            .unwrap()
            .transliterate_slugs
    );

    // The versions recorded from now on say it; the one recorded before does not.
    let versions = suiteflow_store::mapping_versions(&mut conn, old)
        .await
        .unwrap();
    assert_eq!(versions[0].version, 2);
    assert_eq!(versions[0].document["transliterateSlugs"], json!(false));
    assert_eq!(versions[1].version, 1);
    assert!(versions[1].document.get("transliterateSlugs").is_none());
    let versions = suiteflow_store::mapping_versions(&mut conn, new)
        .await
        .unwrap();
    assert_eq!(versions[0].document["transliterateSlugs"], json!(true));
}
