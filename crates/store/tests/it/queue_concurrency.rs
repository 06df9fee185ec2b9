use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use suiteflow_store::schema::events;
use suiteflow_store::{Completion, EventId, EventStatus, NewEvent, Store, queue};
use suiteflow_test_support::TestDb;
use suiteflow_test_support::rows;

use crate::common;

const LEASE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_concurrent_claimers_complete_ten_thousand_events_exactly_once() {
    const EVENTS: usize = 10_000;
    const CLAIMERS: usize = 8;
    let db = TestDb::new().await;
    let store = common::store(&db, CLAIMERS + 2).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;
    let all: Vec<NewEvent> = (0..EVENTS)
        .map(|i| {
            NewEvent::record(
                connection,
                format!("rec-{i}"),
                "record_updated",
                format!("k{i}"),
            )
        })
        .collect();
    for chunk in all.chunks(1000) {
        queue::enqueue_many(&mut conn, chunk).await.unwrap();
    }

    let mut tasks = Vec::new();
    for w in 0..CLAIMERS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let worker = format!("worker-{w}");
            let mut conn = store.get().await.unwrap();
            let mut completed: Vec<EventId> = Vec::new();
            loop {
                let batch = queue::claim(&mut conn, &worker, 50, LEASE).await.unwrap();
                if batch.is_empty() {
                    break;
                }
                // Half the claimers complete one event at a time, half a batch at once.
                let ids: Vec<EventId> = batch.iter().map(|e| e.id).collect();
                for event in &batch {
                    assert_eq!(event.attempts, 1, "claimed twice: {}", event.id);
                }
                if w % 2 == 0 {
                    for id in ids {
                        queue::complete(&mut conn, &worker, id, &Completion::default())
                            .await
                            .unwrap();
                        completed.push(id);
                    }
                } else {
                    let lost = rows::complete_many(&mut conn, &worker, &ids).await;
                    assert!(lost.is_empty(), "{lost:?}");
                    completed.extend(ids);
                }
            }
            completed
        }));
    }
    let mut per_worker = Vec::new();
    for task in tasks {
        per_worker.push(task.await.unwrap());
    }

    let total: usize = per_worker.iter().map(Vec::len).sum();
    let distinct: HashSet<EventId> = per_worker.iter().flatten().copied().collect();
    assert_eq!(total, EVENTS, "completions counted across workers");
    assert_eq!(
        distinct.len(),
        EVENTS,
        "each event completed by exactly one worker"
    );
    assert!(
        per_worker.iter().filter(|c| !c.is_empty()).count() > 1,
        "the work was shared between claimers"
    );
    let succeeded: i64 = events::table
        .filter(events::status.eq(EventStatus::Success))
        .filter(events::attempts.eq(1))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(succeeded, EVENTS as i64);
}

/// Claims and completes until the queue stays empty, recording which record is in flight.
async fn claimer(
    store: Store,
    worker: String,
    in_flight: Arc<Mutex<HashSet<String>>>,
    violations: Arc<Mutex<Vec<String>>>,
    producing: Arc<std::sync::atomic::AtomicBool>,
) -> usize {
    let mut conn = store.get().await.unwrap();
    let mut processed = 0;
    loop {
        // Read before claiming: when the producers had stopped before this claim began, an
        // empty claim means nothing is left that this claimer could take. (An event blocked
        // by a sibling in flight is taken by the claimer holding that sibling, which loops.)
        let producers_done =
            !std::sync::atomic::AtomicBool::load(&producing, std::sync::atomic::Ordering::Acquire);
        let batch = queue::claim(&mut conn, &worker, 5, LEASE).await.unwrap();
        if batch.is_empty() {
            if producers_done {
                return processed;
            }
            tokio::task::yield_now().await;
            continue;
        }
        for event in &batch {
            if !in_flight.lock().unwrap().insert(event.external_id.clone()) {
                violations.lock().unwrap().push(event.external_id.clone());
            }
        }
        // "Process" while holding the claim, so overlapping claims have time to happen.
        tokio::time::sleep(Duration::from_millis(2)).await;
        for event in &batch {
            // Leave the in-flight set before the outcome commits, so that a sibling claimed
            // right after the commit is not mistaken for an overlap.
            in_flight.lock().unwrap().remove(&event.external_id);
            queue::complete(&mut conn, &worker, event.id, &Completion::default())
                .await
                .unwrap();
            processed += 1;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_events_of_one_record_are_never_in_flight_together() {
    const RECORDS: usize = 12;
    const ROUNDS: usize = 40;
    const CLAIMERS: usize = 8;
    let db = TestDb::new().await;
    let store = common::store(&db, CLAIMERS + 3).await;
    let mut conn = store.get().await.unwrap();
    let connection = common::connection(&mut conn).await;

    let in_flight = Arc::new(Mutex::new(HashSet::new()));
    let violations = Arc::new(Mutex::new(Vec::new()));
    let producing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut claimers = Vec::new();
    for w in 0..CLAIMERS {
        claimers.push(tokio::spawn(claimer(
            store.clone(),
            format!("worker-{w}"),
            Arc::clone(&in_flight),
            Arc::clone(&violations),
            Arc::clone(&producing),
        )));
    }

    // Two producers keep adding events for the same few records while the claimers run, so
    // claims race with inserts and with each other.
    let mut producers = Vec::new();
    for p in 0..2 {
        let store = store.clone();
        producers.push(tokio::spawn(async move {
            let mut conn = store.get().await.unwrap();
            for round in 0..ROUNDS {
                let batch: Vec<NewEvent> = (0..RECORDS)
                    .map(|r| {
                        NewEvent::record(
                            connection,
                            format!("record-{r}"),
                            "record_updated",
                            format!("p{p}-round{round}-r{r}"),
                        )
                    })
                    .collect();
                queue::enqueue_many(&mut conn, &batch).await.unwrap();
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }));
    }
    for p in producers {
        p.await.unwrap();
    }
    producing.store(false, std::sync::atomic::Ordering::Release);
    let mut processed = 0;
    for c in claimers {
        processed += c.await.unwrap();
    }

    assert!(
        violations.lock().unwrap().is_empty(),
        "overlaps: {:?}",
        violations.lock().unwrap()
    );
    // Every event ended as processed or superseded, and the newest of each record was written.
    let rows: Vec<(String, i64, EventStatus)> = events::table
        .select((events::external_id, events::seq, events::status))
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2 * ROUNDS * RECORDS);
    let mut newest: HashMap<String, (i64, EventStatus)> = HashMap::new();
    for (record, seq, status) in &rows {
        assert!(
            matches!(status, EventStatus::Success | EventStatus::Skipped),
            "{status}"
        );
        let entry = newest.entry(record.clone()).or_insert((*seq, *status));
        if *seq > entry.0 {
            *entry = (*seq, *status);
        }
    }
    assert_eq!(newest.len(), RECORDS);
    assert!(
        newest.values().all(|(_, s)| *s == EventStatus::Success),
        "{newest:?}"
    );
    let successes = rows.iter().filter(|r| r.2 == EventStatus::Success).count();
    assert_eq!(processed, successes);
}
