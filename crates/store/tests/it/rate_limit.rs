use std::sync::{Arc, Mutex};
use std::time::Duration;

use suiteflow_store::{
    Rate, StoreError, Take, announce_limit, bucket_state, calls_this_month, count_call, pause,
    refund, rekey, take,
};
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

/// Whether `rate_bucket_open(key)` says the bucket would grant a permit now.
async fn open(conn: &mut suiteflow_store::AsyncPgConnection, key: &str) -> bool {
    use diesel::sql_types::{Bool, Text};
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Open {
        #[diesel(sql_type = Bool)]
        open: bool,
    }
    diesel::sql_query("SELECT rate_bucket_open($1) AS open")
        .bind::<Text, _>(key)
        .get_result::<Open>(conn)
        .await
        .unwrap()
        .open
}

#[tokio::test]
async fn a_pause_holds_every_taker_back_until_it_ends_and_closes_the_bucket_meanwhile() {
    let db = TestDb::new().await;
    let store = common::store(&db, 1).await;
    let mut conn = store.get().await.unwrap();
    let rate = Rate::per_minute(600);
    assert!(
        open(&mut conn, "p").await,
        "a bucket never taken from is open"
    );
    assert!(take(&mut conn, "p", 1, rate).await.unwrap().is_granted());
    let until = OffsetDateTime::now_utc() + time::Duration::seconds(10);
    pause(&mut conn, "p", until).await.unwrap();
    // An earlier pause does not shorten a later one.
    pause(&mut conn, "p", until - time::Duration::seconds(5))
        .await
        .unwrap();

    let refused = take(&mut conn, "p", 1, rate).await.unwrap();
    let Take::RetryAt(at) = refused else {
        panic!("a paused bucket granted: {refused:?}")
    };
    // (PostgreSQL keeps microseconds.)
    assert!(
        at > until - time::Duration::microseconds(1),
        "retry at {at}, pause until {until}"
    );
    assert!(!open(&mut conn, "p").await, "a paused bucket is closed");
    let state = bucket_state(&mut conn, "p").await.unwrap().unwrap();
    assert!(
        state
            .paused_until
            .is_some_and(|p| (p - until).abs() < time::Duration::milliseconds(1)),
        "{state:?}"
    );

    // Once the pause is over, the bucket grants again.
    pause(&mut conn, "q", until).await.unwrap(); // no bucket "q" yet: nothing to pause
    assert!(open(&mut conn, "q").await);
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query(
            "UPDATE rate_buckets SET paused_until = now() - interval '1 second' WHERE key = 'p'",
        ),
        &mut conn,
    )
    .await
    .unwrap();
    assert!(open(&mut conn, "p").await);
    assert!(take(&mut conn, "p", 1, rate).await.unwrap().is_granted());
}

#[tokio::test]
async fn a_bucket_that_follows_the_announced_limit_takes_its_size_from_it() {
    let db = TestDb::new().await;
    let store = common::store(&db, 1).await;
    let mut conn = store.get().await.unwrap();
    // Until the API announces a limit, the caller's rate applies: 10 a minute, burst 1.
    let rate = Rate::per_minute(10).following_announced();
    assert!(take(&mut conn, "t", 1, rate).await.unwrap().is_granted());
    assert!(!take(&mut conn, "t", 1, rate).await.unwrap().is_granted());
    assert!(!open(&mut conn, "t").await, "spent");

    // The API says 120 a minute: the bucket holds 12 at once and refills 109 a minute.
    announce_limit(&mut conn, "t", 120).await.unwrap();
    assert_eq!(
        bucket_state(&mut conn, "t")
            .await
            .unwrap()
            .unwrap()
            .announced_limit,
        Some(120)
    );
    let mut granted = 0;
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_millis(700) {
        if take(&mut conn, "t", 1, rate).await.unwrap().is_granted() {
            granted += 1;
        } else {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // 0.7 s at 109 a minute refills about 1.3 permits, where 10 a minute refills 0.1: the
    // bucket now refills at the announced rate (and, empty, cannot burst).
    assert!(
        (1..=3).contains(&granted),
        "{granted} permits in 0.7 s at 120 a minute"
    );
}

#[tokio::test]
async fn a_refund_gives_an_unused_permit_back() {
    let db = TestDb::new().await;
    let store = common::store(&db, 1).await;
    let mut conn = store.get().await.unwrap();
    let rate = Rate::per_minute(60).with_burst(1);
    assert!(take(&mut conn, "r", 1, rate).await.unwrap().is_granted());
    assert!(!take(&mut conn, "r", 1, rate).await.unwrap().is_granted());
    refund(&mut conn, "r", 1).await.unwrap();
    assert!(take(&mut conn, "r", 1, rate).await.unwrap().is_granted());
    // Refunds never fill the bucket past its burst.
    refund(&mut conn, "r", 5).await.unwrap();
    assert!(take(&mut conn, "r", 1, rate).await.unwrap().is_granted());
    assert!(!take(&mut conn, "r", 1, rate).await.unwrap().is_granted());
}

#[tokio::test]
async fn calls_are_counted_per_key_and_month_and_move_with_a_rekey() {
    let db = TestDb::new().await;
    let store = common::store(&db, 1).await;
    let mut conn = store.get().await.unwrap();
    for expected in 1..=3 {
        assert_eq!(
            count_call(&mut conn, "smartsuite:old").await.unwrap(),
            expected
        );
    }
    assert_eq!(count_call(&mut conn, "smartsuite:new").await.unwrap(), 1);
    assert_eq!(
        calls_this_month(&mut conn, "smartsuite:old").await.unwrap(),
        3
    );
    assert_eq!(
        calls_this_month(&mut conn, "smartsuite:none")
            .await
            .unwrap(),
        0
    );
    let rate = Rate::new(5, Duration::from_secs(1)).with_burst(1);
    assert!(
        take(&mut conn, "smartsuite:old", 1, rate)
            .await
            .unwrap()
            .is_granted()
    );
    let until = OffsetDateTime::now_utc() + time::Duration::seconds(30);
    pause(&mut conn, "smartsuite:old", until).await.unwrap();

    // The data key changed: the same credential has a new fingerprint. What the old name
    // knew moves to the new one (the counts add up), and nothing stays under the old name.
    rekey(&mut conn, "smartsuite:old", "smartsuite:new")
        .await
        .unwrap();
    assert_eq!(
        calls_this_month(&mut conn, "smartsuite:new").await.unwrap(),
        4
    );
    assert_eq!(
        calls_this_month(&mut conn, "smartsuite:old").await.unwrap(),
        0
    );
    let moved = bucket_state(&mut conn, "smartsuite:new")
        .await
        .unwrap()
        .unwrap();
    assert!(moved.paused_until.is_some(), "the pause moved: {moved:?}");
    assert_eq!(
        bucket_state(&mut conn, "smartsuite:old").await.unwrap(),
        None
    );
}
