//! `analytics_daily` and `worker_events_total` count each event once, in the outcome it ends
//! with, and pulls apart from record events.

use serde_json::json;
use suiteflow_store::EventStatus;

use crate::support::*;

/// (received, succeeded, failed, dead lettered, skipped, pulls) of the day's counters.
async fn today(p: &Pipeline) -> (i32, i32, i32, i32, i32, i32) {
    let day = p.analytics().await;
    (
        day.events_received,
        day.succeeded,
        day.failed,
        day.dead_lettered,
        day.skipped,
        day.pulls,
    )
}

/// The value of `worker_events_total{outcome="…"}` in this process (0 when never emitted). The
/// recorder is the process's: right here because each test runs in a process of its own.
fn events_total(outcome: &str) -> u64 {
    worker::metrics::counted(&format!(r#"worker_events_total{{outcome="{outcome}"}}"#))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mixed_day_counts_each_event_once_in_its_final_outcome() {
    // Two attempts, then the dead letter; retries 1 ms apart.
    let p = Pipeline::start_with_retries(1, 2).await;
    // A first record warms the connection (its schemas are read), so the faults below meet
    // the writes.
    p.accept_a_create("warm").await;
    p.sync().await;
    assert_eq!(today(&p).await, (1, 1, 0, 0, 0, 0));

    // Superseded: two changes of one record before the worker claims; the older is skipped by
    // the claim itself.
    for (key, price) in [("s1", "1"), ("s2", "2")] {
        let data = json!({"title": "Stool", "price": price});
        p.accept("record_updated", "stool", data, key).await;
    }
    p.sync().await;
    assert_eq!(today(&p).await, (3, 2, 0, 0, 1, 0));
    assert_eq!(events_total("skipped"), 1, "the claim's skip is emitted");

    // A 429: put back without an attempt, claimed again, written: received once.
    p.wf.fail_next(1, 429);
    p.accept_a_create("throttled").await;
    p.worker.run_until_empty().await.unwrap();
    let [event] = p.events_of("throttled").await.try_into().unwrap();
    assert_eq!(event.status, EventStatus::Queued, "rescheduled");
    assert_eq!(
        today(&p).await,
        (3, 2, 0, 0, 1, 0),
        "a rescheduled event has no outcome yet"
    );
    p.make_due().await;
    p.sync().await;
    assert_eq!(today(&p).await, (4, 3, 0, 0, 1, 0));

    // A failure is counted as failed while it waits for its retry, then moves to the dead
    // letter it ends in.
    p.wf.fail_next(100, 503);
    p.accept_a_create("doomed").await;
    p.worker.run_once().await.unwrap();
    let [event] = p.events_of("doomed").await.try_into().unwrap();
    assert_eq!(event.status, EventStatus::Failed);
    assert_eq!(today(&p).await, (5, 3, 1, 0, 1, 0));
    p.sync().await;
    let [event] = p.events_of("doomed").await.try_into().unwrap();
    assert_eq!(event.status, EventStatus::DeadLetter);
    assert_eq!(today(&p).await, (5, 3, 0, 1, 1, 0));
    p.wf.clear_faults();

    // A pull: counted apart; the record event it queues is counted as any other.
    p.register_smartsuite_webhook("analytics-token").await;
    p.ss.insert_record(&p.table, json!({"title": "Bench", "price": "42"}));
    assert!(p.wait_for_queued().await, "the ping did not queue a pull");
    p.sync().await;
    assert_eq!(today(&p).await, (6, 4, 0, 1, 1, 1));

    // The dead letter replayed and written moves to succeeded; nothing is received again.
    {
        let store = p.store().await;
        let mut conn = store.get().await.unwrap();
        assert!(
            suiteflow_store::queue::requeue(&mut conn, event.id)
                .await
                .unwrap()
        );
    }
    p.sync().await;
    assert_eq!(today(&p).await, (6, 5, 0, 0, 1, 1));

    // The row agrees with the events themselves: every record event finished, counted once
    // by the status it ended with, its durations summed over the successes (the replayed one's
    // latest, not both of its runs).
    let events = p.all_events().await;
    let records: Vec<_> = events
        .iter()
        .filter(|e| e.kind == suiteflow_store::EventKind::Record)
        .collect();
    let with = |s: EventStatus| records.iter().filter(|e| e.status == s).count() as i32;
    assert_eq!(
        (
            records.len() as i32,
            with(EventStatus::Success),
            with(EventStatus::DeadLetter)
        ),
        (6, 5, 0)
    );
    let durations: i64 = records
        .iter()
        .filter(|e| e.status == EventStatus::Success)
        .filter_map(|e| e.duration_ms)
        .sum();
    assert_eq!(p.analytics().await.total_duration_ms, durations);

    // The metric counts outcomes as they happen: the failed attempt and the dead letter both
    // happened, as did the reschedule.
    assert_eq!(events_total("skipped"), 1);
    assert_eq!(events_total("rescheduled"), 1);
    assert_eq!(events_total("failed"), 1);
    assert_eq!(events_total("dead_letter"), 1);
    // warm, stool, throttled, the pull, the pulled record, the replay.
    assert_eq!(events_total("success"), 6);
}
