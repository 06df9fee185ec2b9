use suiteflow_store::IdMapState;
use suiteflow_store::id_map::{self, RecordKey};
use suiteflow_test_support::TestDb;
use suiteflow_test_support::rows::delete_connection;

use crate::common;

#[tokio::test]
async fn intent_then_synced_then_deleted() {
    let db = TestDb::new().await;
    let store = common::store(&db, 1).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;
    let key = RecordKey::smartsuite(connection, "rec-1");

    assert_eq!(id_map::lookup(&mut conn, key).await.unwrap(), None);
    assert_eq!(
        id_map::mark_deleted(&mut conn, key).await.unwrap(),
        None,
        "nothing to delete"
    );

    let intent = id_map::record_intent(&mut conn, key, "blue-shirt")
        .await
        .unwrap();
    assert_eq!(intent.state, IdMapState::Creating);
    assert_eq!(intent.slug.as_deref(), Some("blue-shirt"));
    assert_eq!(intent.webflow_item_id, None);
    // A create whose outcome is unknown is looked up by the slug recorded here.
    let found = id_map::lookup(&mut conn, key).await.unwrap().unwrap();
    assert_eq!(found, intent);

    let synced = id_map::mark_synced(&mut conn, key, "item-1", None, Some("hash-1"))
        .await
        .unwrap();
    assert_eq!(synced.state, IdMapState::Synced);
    assert_eq!(synced.webflow_item_id.as_deref(), Some("item-1"));
    assert_eq!(
        synced.slug.as_deref(),
        Some("blue-shirt"),
        "the slug is kept"
    );
    assert_eq!(synced.field_data_hash.as_deref(), Some("hash-1"));

    let resynced = id_map::mark_synced(
        &mut conn,
        key,
        "item-1",
        Some("blue-shirt-1"),
        Some("hash-2"),
    )
    .await
    .unwrap();
    assert_eq!(resynced.field_data_hash.as_deref(), Some("hash-2"));
    assert_eq!(resynced.slug.as_deref(), Some("blue-shirt-1"));
    assert!(resynced.updated_at >= synced.updated_at);

    let deleted = id_map::mark_deleted(&mut conn, key).await.unwrap().unwrap();
    assert_eq!(deleted.state, IdMapState::Deleted);
    assert_eq!(deleted.webflow_item_id.as_deref(), Some("item-1"));
    assert_eq!(
        deleted.field_data_hash, None,
        "a recreate is never skipped as a no-op"
    );

    // A record can be synced without an intent (an update of an adopted item).
    let other = RecordKey::smartsuite(connection, "rec-2");
    id_map::mark_synced(&mut conn, other, "item-2", Some("s2"), Some("h"))
        .await
        .unwrap();
    let many = id_map::lookup_many(
        &mut conn,
        connection,
        id_map::SMARTSUITE,
        &["rec-1", "rec-2", "x"],
    )
    .await
    .unwrap();
    assert_eq!(many.len(), 2);

    // The id map goes with its connection.
    assert!(delete_connection(&mut conn, connection).await);
    assert_eq!(id_map::lookup(&mut conn, other).await.unwrap(), None);
}

#[tokio::test]
async fn a_synced_entry_without_an_item_id_is_impossible() {
    let db = TestDb::new().await;
    let store = common::store(&db, 1).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;
    let key = RecordKey::smartsuite(connection, "r");
    id_map::record_intent(&mut conn, key, "s").await.unwrap();
    // An entry still `creating` has no item: there is nothing to mark deleted.
    assert_eq!(id_map::mark_deleted(&mut conn, key).await.unwrap(), None);
    assert!(id_map::remove(&mut conn, key).await.unwrap());
}

#[tokio::test]
async fn the_other_records_holding_a_slug_are_found_and_the_record_itself_is_not() {
    let db = TestDb::new().await;
    let store = common::store(&db, 1).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;
    let mine = RecordKey::smartsuite(connection, "mine");
    let other = RecordKey::smartsuite(connection, "other");
    id_map::record_intent(&mut conn, mine, "sofa")
        .await
        .unwrap();
    assert!(
        id_map::others_with_slug(&mut conn, mine, "sofa")
            .await
            .unwrap()
            .is_empty(),
        "the record's own entry does not count"
    );
    id_map::mark_synced(&mut conn, other, "item-9", Some("sofa"), Some("h"))
        .await
        .unwrap();
    // Another connection's record with the same slug is not this connection's.
    let elsewhere = common::connection(&mut conn).await;
    id_map::mark_synced(
        &mut conn,
        RecordKey::smartsuite(elsewhere, "x"),
        "item-7",
        Some("sofa"),
        Some("h"),
    )
    .await
    .unwrap();
    let others = id_map::others_with_slug(&mut conn, mine, "sofa")
        .await
        .unwrap();
    assert_eq!(
        others
            .iter()
            .map(|e| e.external_id.as_str())
            .collect::<Vec<_>>(),
        ["other"]
    );
    assert!(
        id_map::others_with_slug(&mut conn, mine, "chair")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn holders_and_entries_tell_which_items_belong_to_records() {
    let db = TestDb::new().await;
    let store = common::store(&db, 1).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;
    let elsewhere = common::connection(&mut conn).await;
    for (owner, record, item) in [
        (connection, "a", "item-a"),
        (connection, "b", "item-b"),
        (elsewhere, "c", "item-c"),
    ] {
        id_map::mark_synced(
            &mut conn,
            RecordKey::smartsuite(owner, record),
            item,
            None,
            None,
        )
        .await
        .unwrap();
    }
    // An adopted item not yet rewritten has no hash: its record's next write is not skipped.
    let a = id_map::lookup(&mut conn, RecordKey::smartsuite(connection, "a"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a.state, a.field_data_hash), (IdMapState::Synced, None));
    // b's item is gone: a deleted entry holds nothing.
    id_map::mark_deleted(&mut conn, RecordKey::smartsuite(connection, "b"))
        .await
        .unwrap();
    let holders = id_map::holders(&mut conn, connection, &["item-a", "item-b", "item-c"])
        .await
        .unwrap();
    let held: Vec<&str> = holders
        .iter()
        .filter_map(|e| e.webflow_item_id.as_deref())
        .collect();
    assert_eq!(
        held,
        ["item-a"],
        "only this connection's live entries hold items"
    );
    let mut records: Vec<String> = id_map::entries_of(&mut conn, connection)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.external_id)
        .collect();
    records.sort();
    assert_eq!(records, ["a", "b"]);
}

#[tokio::test]
async fn an_adoption_is_written_only_where_neither_the_record_nor_the_item_has_an_entry() {
    let db = TestDb::new().await;
    let store = common::store(&db, 1).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;
    let key = |record| RecordKey::smartsuite(connection, record);

    assert!(
        id_map::adopt(&mut conn, key("a"), "item-a", Some("a"), None)
            .await
            .unwrap()
    );
    let a = id_map::lookup(&mut conn, key("a")).await.unwrap().unwrap();
    assert_eq!(
        (a.state, a.webflow_item_id.as_deref()),
        (IdMapState::Synced, Some("item-a"))
    );
    // The record has an entry by now (the worker wrote it): nothing changes.
    id_map::record_intent(&mut conn, key("b"), "b")
        .await
        .unwrap();
    assert!(
        !id_map::adopt(&mut conn, key("b"), "item-b", Some("b"), None)
            .await
            .unwrap()
    );
    let b = id_map::lookup(&mut conn, key("b")).await.unwrap().unwrap();
    assert_eq!((b.state, b.webflow_item_id), (IdMapState::Creating, None));
    // The item is another record's: not given a second one.
    assert!(
        !id_map::adopt(&mut conn, key("c"), "item-a", Some("a"), None)
            .await
            .unwrap()
    );
    assert_eq!(id_map::lookup(&mut conn, key("c")).await.unwrap(), None);
    // The unique index holds for every writer, not only adopt.
    let refused = id_map::mark_synced(&mut conn, key("d"), "item-a", None, None).await;
    assert!(refused.is_err(), "{refused:?}");
}
