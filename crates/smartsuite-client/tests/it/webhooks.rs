//! The webhooks RPC: create, events with cursor tokens, list, update, delete, and pings.

use std::time::Duration;

use serde_json::json;
use suiteflow_smartsuite_client::{ALL_RECORD_EVENTS, NewWebhook, WebhookFilter};

use crate::{client, fixture};

async fn receiver() -> (tokio::task::JoinHandle<Vec<serde_json::Value>>, String) {
    // a tiny notification receiver: answers 200 with an empty body and keeps the pings
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/hooks/smartsuite/secret-token",
        listener.local_addr().unwrap()
    );
    let task = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut got = Vec::new();
        while got.is_empty() {
            let Ok(Ok((mut socket, _))) =
                tokio::time::timeout(Duration::from_secs(5), listener.accept()).await
            else {
                break;
            };
            let mut buffer = vec![0u8; 8192];
            let mut read = 0;
            loop {
                let n = socket.read(&mut buffer[read..]).await.unwrap();
                read += n;
                let text = String::from_utf8_lossy(&buffer[..read]).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if body.len() >= length {
                        got.push(serde_json::from_str(&body[..length]).unwrap());
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await
                .unwrap();
        }
        got
    });
    (task, url)
}

#[tokio::test]
async fn webhook_lifecycle_with_cursor_and_ping() {
    let f = fixture().await;
    let client = client(&f.smartsuite);
    let (pings, url) = receiver().await;

    let hook = client
        .create_webhook(&NewWebhook {
            solution_id: f.solution.clone(),
            filter: WebhookFilter::applications(&[&f.table]),
            kinds: ALL_RECORD_EVENTS.iter().map(|k| (*k).to_owned()).collect(),
            notification_url: url.clone(),
        })
        .await
        .unwrap();
    let id = hook.webhook_id.clone().unwrap();
    assert_eq!(hook.notification_url(), Some(url.as_str()));
    assert!(hook.expires_at().is_some());
    let sent = &f.smartsuite.requests()[0];
    assert_eq!(
        sent.path,
        "/smartsuite.webhooks.engine.Webhooks/CreateWebhook"
    );
    assert_eq!(
        sent.body["webhook"]["locator"]["account_id"],
        f.smartsuite.account_id()
    );
    assert_eq!(
        sent.header("account-id"),
        Some(f.smartsuite.account_id().as_str())
    );

    // a record change produces an event and a ping with no data in it
    let record = f
        .smartsuite
        .insert_record(&f.table, json!({"title": "first"}));
    let got = pings.await.unwrap();
    assert_eq!(
        got,
        vec![
            json!({"webhookId": id, "locator": {"accountId": f.smartsuite.account_id(), "solutionId": f.solution}})
        ]
    );

    f.smartsuite
        .update_record(&f.table, &record, json!({"title": "renamed"}));
    for n in 0..3 {
        f.smartsuite
            .insert_record(&f.table, json!({"title": format!("more {n}")}));
    }

    // page through with string tokens; the cursor resumes where it stopped
    let page = client.list_events(&id, 2, "").await.unwrap();
    assert_eq!(page.events.len(), 2);
    assert_eq!(page.events[0].kind, "RECORD_CREATED");
    assert_eq!(page.events[1].kind, "RECORD_UPDATED");
    let data = page.events[1].record_event_data.as_ref().unwrap();
    assert_eq!(data.record_id, record);
    assert_eq!(data.previous["title"], "first");
    assert_eq!(data.table_id(), Some(f.table.as_str()));
    assert!(page.events[0].event_id.starts_with(&format!("{id}.")));
    let body = f.smartsuite.requests().last().unwrap().body.clone();
    assert_eq!(body["page_size"], "2", "page_size is sent as a string");
    assert_eq!(body["page_token"], "");

    let (rest, cursor) = client
        .list_all_events(&id, 2, &page.next_page_token)
        .await
        .unwrap();
    assert_eq!(rest.len(), 3);
    let (none, same) = client.list_all_events(&id, 50, &cursor).await.unwrap();
    assert!(none.is_empty());
    assert_eq!(same, cursor, "an empty page keeps the cursor");

    f.smartsuite.delete_record(&f.table, &record);
    let (deleted, _) = client.list_all_events(&id, 50, &cursor).await.unwrap();
    assert_eq!(deleted[0].kind, "RECORD_DELETED");

    // list, update (turn notifications off), delete
    let listed = client
        .list_webhooks(Some(&f.solution), 50, "")
        .await
        .unwrap();
    assert_eq!(listed.webhooks.len(), 1);
    let mut hook = listed.webhooks[0].clone();
    hook.notification_status = Some(json!({"disabled": {}}));
    let updated = client.update_webhook(&hook).await.unwrap();
    let update_body = f.smartsuite.requests().last().unwrap().body.clone();
    assert!(
        update_body["webhook"].get("system_status").is_none(),
        "read-only keys are not sent back"
    );
    assert_eq!(update_body["webhook"]["webhook_id"], id);
    assert_eq!(updated.notification_url(), None);
    client.delete_webhook(&id).await.unwrap();
    assert!(
        client
            .list_webhooks(None, 50, "")
            .await
            .unwrap()
            .webhooks
            .is_empty()
    );
    let err = client.list_events(&id, 10, "").await.unwrap_err();
    assert!(
        matches!(err, suiteflow_smartsuite_client::Error::NotFound { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_invalid_webhook_is_refused() {
    let f = fixture().await;
    let client = client(&f.smartsuite);
    let err = client
        .create_webhook(&NewWebhook {
            solution_id: "no-such-solution".into(),
            filter: WebhookFilter::solution(),
            kinds: vec!["RECORD_CREATED".into()],
            notification_url: "https://example.invalid/hook".into(),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, suiteflow_smartsuite_client::Error::Validation { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn manual_ping_reaches_the_receiver() {
    let f = fixture().await;
    f.smartsuite.set_auto_ping(false);
    let client = client(&f.smartsuite);
    let (pings, url) = receiver().await;
    let hook = client
        .create_webhook(&NewWebhook {
            solution_id: f.solution.clone(),
            filter: WebhookFilter::solution(),
            kinds: vec!["RECORD_UPDATED".into()],
            notification_url: url,
        })
        .await
        .unwrap();
    let id = hook.webhook_id.unwrap();
    assert_eq!(f.smartsuite.ping(&id).await.unwrap(), 200);
    assert_eq!(pings.await.unwrap()[0]["webhookId"], id);
    assert_eq!(f.smartsuite.pings().len(), 1);
}
