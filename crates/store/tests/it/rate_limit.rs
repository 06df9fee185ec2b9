use std::sync::{Arc, Mutex};
use std::time::Duration;

use suiteflow_store::{Rate, StoreError, Take, take};
use suiteflow_test_support::TestDb;
use time::OffsetDateTime;

use crate::common;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_bucket_never_grants_more_than_its_rate_in_any_window_with_four_takers() {
    // Time scaled down: 20 per second instead of per minute, with a burst of 4.
    let rate = Rate::new(20, Duration::from_secs(1)).with_burst(4);
    let run_for = Duration::from_millis(3500);
    let db = TestDb::new().await;
    let store = common::store(&db, 6).await;

    let grants = Arc::new(Mutex::new(Vec::<OffsetDateTime>::new()));
    let refusals = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = tokio::time::Instant::now();
    let mut takers = Vec::new();
    for t in 0..4u32 {
        let (store, grants, refusals) = (store.clone(), Arc::clone(&grants), Arc::clone(&refusals));
        takers.push(tokio::spawn(async move {
            let mut conn = store.get().await.unwrap();
            while started.elapsed() < run_for {
                // Mix single and double takes.
                let n = 1 + (t % 2);
                match take(&mut conn, "test", n, rate).await.unwrap() {
                    Take::Granted { at } => {
                        grants
                            .lock()
                            .unwrap()
                            .extend(std::iter::repeat_n(at, n as usize));
                    }
                    Take::RetryAt(at) => {
                        refusals.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        // Sleep until then (capped), like a worker would; sometimes retry early.
                        let wait = (at - OffsetDateTime::now_utc())
                            .clamp(time::Duration::ZERO, time::Duration::milliseconds(30));
                        tokio::time::sleep(wait.unsigned_abs() / (1 + t)).await;
                    }
                }
            }
        }));
    }
    for t in takers {
        t.await.unwrap();
    }

    let mut grants = grants.lock().unwrap().clone();
    grants.sort();
    let window = time::Duration::seconds(1);
    let mut worst = 0;
    for (i, start) in grants.iter().enumerate() {
        let in_window = grants[i..]
            .iter()
            .take_while(|t| **t < *start + window)
            .count();
        worst = worst.max(in_window);
    }
    assert!(
        worst <= 20,
        "{worst} permits granted within one window (limit 20)"
    );
    // The bucket did grant at about its rate (3.5 windows: burst 4 + 17 per window).
    assert!(grants.len() >= 50, "only {} permits granted", grants.len());
    assert!(
        worst >= 15,
        "the window was never close to full ({worst}): the test proves nothing"
    );
    assert!(
        refusals.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "takers were never refused"
    );
}

#[tokio::test]
async fn a_refusal_says_when_to_come_back_and_takes_nothing() {
    let db = TestDb::new().await;
    let store = common::store(&db, 1).await;
    let mut conn = store.get().await.unwrap();
    // 60 per minute with a burst of 2: two at once, then one per second.
    let rate = Rate::per_minute(60).with_burst(2);
    let first = take(&mut conn, "b", 2, rate).await.unwrap();
    let Take::Granted { at } = first else {
        panic!("{first:?}")
    };
    let refused = take(&mut conn, "b", 1, rate).await.unwrap();
    let Take::RetryAt(retry_at) = refused else {
        panic!("{refused:?}")
    };
    // 59 permits refill per minute: one permit takes 60/59 s from the first grant.
    let wait = retry_at - at;
    assert!(
        wait > time::Duration::milliseconds(990) && wait <= time::Duration::milliseconds(1020),
        "{wait}"
    );
    // Another bucket: independent.
    assert!(
        take(&mut conn, "other", 2, rate)
            .await
            .unwrap()
            .is_granted()
    );

    // Asking for more than the bucket can ever hold is refused up front.
    let too_many = take(&mut conn, "b", 3, rate).await.unwrap_err();
    assert!(matches!(too_many, StoreError::Invalid(_)), "{too_many:?}");
}
