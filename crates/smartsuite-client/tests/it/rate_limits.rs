//! 5 requests per second per key across clones, and the pause after a 429.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use suiteflow_smartsuite_client::Error;
use suiteflow_test_support::smartsuite::{SmartSuiteConfig, SmartSuiteStandIn};

use crate::{builder, client, fixture};

#[tokio::test]
async fn clones_share_five_per_second_and_never_draw_a_429() {
    let f = fixture().await;
    let client = client(&f.smartsuite);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..12 {
        // half through clones, half through a second client built for the same key
        let c = if n % 2 == 0 {
            client.clone()
        } else {
            builder(&f.smartsuite).build().unwrap()
        };
        let table = f.table.clone();
        tasks.push(tokio::spawn(async move { c.get_table(&table).await }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    // 12 requests at 5 per (1.1 s) window: the 11th cannot start before 2.2 s
    assert!(
        started.elapsed() >= Duration::from_millis(2200),
        "{:?}",
        started.elapsed()
    );
    assert!(f.smartsuite.requests().iter().all(|r| r.status == 200));
}

#[tokio::test]
async fn a_429_pauses_the_key_for_every_clone() {
    let f = fixture().await;
    let client = client(&f.smartsuite);
    let other = client.clone();
    f.smartsuite.fail_next(1, 429);
    let err = client.get_table(&f.table).await.unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after } if retry_after == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(other.paused_for().is_some(), "the clone sees the pause");

    let started = Instant::now();
    other.get_table(&f.table).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "waited for the pause: {:?}",
        started.elapsed()
    );
    assert_eq!(
        f.smartsuite.requests().len(),
        2,
        "nothing was sent during the pause"
    );
}

#[tokio::test]
async fn a_429_can_be_retried_after_the_pause() {
    let f = fixture().await;
    let client = builder(&f.smartsuite)
        .rate_limited_retries(1)
        .build()
        .unwrap();
    f.smartsuite.fail_next(1, 429);
    let started = Instant::now();
    client.get_table(&f.table).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert_eq!(f.smartsuite.requests().len(), 2);
}

#[tokio::test]
async fn a_client_over_the_limit_is_blocked_by_the_stand_in() {
    let smartsuite = SmartSuiteStandIn::start_with(SmartSuiteConfig {
        penalty: Duration::from_millis(400),
        ..SmartSuiteConfig::default()
    })
    .await
    .unwrap();
    let solution = smartsuite.add_solution("S");
    // a misconfigured client allowed 50/s draws the stand-in's 429 and its pause
    let client = builder(&smartsuite)
        .requests_per_second(50)
        .rate_limit_pause(Duration::from_millis(400))
        .build()
        .unwrap();
    // SmartSuite (and its stand-in) count per clock second: a burst that straddles a second
    // boundary could fit under the limit, so it starts at the beginning of one.
    let into_second = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    tokio::time::sleep(Duration::from_nanos(u64::from(1_000_000_000 - into_second))).await;
    let mut limited = 0;
    for _ in 0..8 {
        match client.list_tables(Some(&solution)).await {
            Ok(_) => {}
            Err(Error::RateLimited { .. }) => limited += 1,
            Err(other) => panic!("{other:?}"),
        }
    }
    assert!(limited >= 1, "the stand-in enforces 5 per second");
    let statuses: Vec<u16> = smartsuite.requests().iter().map(|r| r.status).collect();
    assert_eq!(
        statuses[..6],
        [200, 200, 200, 200, 200, 429],
        "five in the second, the sixth refused: {statuses:?}"
    );
}
