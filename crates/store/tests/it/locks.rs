use std::time::Duration;

use suiteflow_store::{acquire_lock, release_lock};
use suiteflow_test_support::TestDb;

use crate::common;

#[tokio::test]
async fn a_lock_has_one_holder_until_released_or_expired() {
    let db = TestDb::new().await;
    let store = common::store(&db, 1).await;
    let mut conn = store.get().await.unwrap();
    let minute = Duration::from_secs(60);

    assert!(
        acquire_lock(&mut conn, "keep-alive", "a", minute)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        acquire_lock(&mut conn, "keep-alive", "b", minute)
            .await
            .unwrap()
            .is_none()
    );
    // The holder renews.
    assert!(
        acquire_lock(&mut conn, "keep-alive", "a", minute)
            .await
            .unwrap()
            .is_some()
    );
    // Other names are independent.
    assert!(
        acquire_lock(&mut conn, "retention", "b", minute)
            .await
            .unwrap()
            .is_some()
    );
    // Only the holder releases.
    assert!(!release_lock(&mut conn, "keep-alive", "b").await.unwrap());
    assert!(release_lock(&mut conn, "keep-alive", "a").await.unwrap());
    assert!(
        acquire_lock(&mut conn, "keep-alive", "b", Duration::ZERO)
            .await
            .unwrap()
            .is_some()
    );
    // b's lease is over at once: a takes the lock over, and b can no longer release it.
    assert!(
        acquire_lock(&mut conn, "keep-alive", "a", minute)
            .await
            .unwrap()
            .is_some()
    );
    assert!(!release_lock(&mut conn, "keep-alive", "b").await.unwrap());
}
