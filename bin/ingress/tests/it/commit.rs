//! Group commit: concurrent requests share statements, every 202 has its row, and an event the
//! database refuses does not take its batch down with it.

use std::collections::HashSet;
use std::time::Duration;

use ingress::commit::{CommitError, Committer};
use suiteflow_crypto::SecretString;
use suiteflow_store::{ConnectionId, DatabaseConfig, Enqueued, NewEvent, Store};
use suiteflow_test_support::TestDb;

use crate::support::{TestApp, sign};

async fn committer(db: &TestDb) -> Committer {
    let config = DatabaseConfig {
        url: SecretString::new(db.url()),
        pool_size: 4,
        statement_timeout: Duration::from_secs(10),
        application_name: "commit-test".into(),
    };
    Committer::start(Store::connect(&config).await.unwrap(), config.pool_size)
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_pushes_are_each_committed_once() {
    let app = TestApp::spawn().await;
    let id = app.hmac_connection().await;
    let mut requests = Vec::new();
    for i in 0..300 {
        let http = app.http.clone();
        let url = app.url(&format!("/api/hooks/{}", id.0));
        requests.push(tokio::spawn(async move {
            let body = format!(r#"{{"record_id":"rec-{i}","event_type":"record_updated"}}"#);
            let response = http
                .post(url)
                .header("content-type", "application/json")
                .header("x-smartsuite-signature", sign(&body))
                .header("x-idempotency-key", format!("key-{i}"))
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 202);
            let body: serde_json::Value = response.json().await.unwrap();
            let event_id: uuid::Uuid = body["eventId"].as_str().unwrap().parse().unwrap();
            (format!("rec-{i}"), event_id)
        }));
    }
    let mut answers = Vec::new();
    for request in requests {
        answers.push(request.await.unwrap());
    }
    let ids: HashSet<uuid::Uuid> = answers.iter().map(|(_, id)| *id).collect();
    assert_eq!(ids.len(), 300, "every push got its own event id");
    assert_eq!(app.event_count().await, 300);
    // Each answer names the row of its own request, not another one of its batch.
    let mut conn = app.db().await;
    for (record, id) in answers {
        let event = suiteflow_store::queue::get_event(&mut conn, suiteflow_store::EventId(id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(event.external_id, record, "event {id}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicates_in_one_batch_share_the_first_events_id() {
    let app = TestApp::spawn().await;
    let id = app.hmac_connection().await;
    let committer = committer(&app.db).await;
    let event = NewEvent::record(id, "rec-1", "record_updated", "same-key");
    let answers =
        futures::future::join_all((0..20).map(|_| committer.enqueue(event.clone()))).await;
    let answers: Vec<Enqueued> = answers.into_iter().map(Result::unwrap).collect();
    let inserted: Vec<_> = answers.iter().filter(|a| !a.is_duplicate()).collect();
    assert_eq!(inserted.len(), 1, "{answers:?}");
    assert!(answers.iter().all(|a| a.id() == inserted[0].id()));
    assert_eq!(app.event_count().await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_the_database_refuses_fails_alone() {
    let app = TestApp::spawn().await;
    let id = app.hmac_connection().await;
    let committer = committer(&app.db).await;
    // An unknown connection breaks the foreign key: the batch's statement fails, and the
    // others must still be committed.
    let missing = ConnectionId::new_random();
    let events: Vec<NewEvent> = (0..40)
        .map(|i| {
            let connection = if i == 17 { missing } else { id };
            NewEvent::record(
                connection,
                format!("rec-{i}"),
                "record_updated",
                format!("k-{i}"),
            )
        })
        .collect();
    let answers =
        futures::future::join_all(events.iter().cloned().map(|e| committer.enqueue(e))).await;
    for (i, answer) in answers.iter().enumerate() {
        if i == 17 {
            assert!(matches!(answer, Err(CommitError::Store(_))), "{answer:?}");
        } else {
            assert!(
                matches!(answer, Ok(Enqueued::Inserted(_))),
                "{i}: {answer:?}"
            );
        }
    }
    assert_eq!(app.event_count().await, 39);
}
