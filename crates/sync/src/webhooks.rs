//! A connection's SmartSuite webhook: registering it, and keeping it alive. SmartSuite turns a
//! webhook's notifications off after about a day of failed pings, and deletes a webhook (with
//! its stored events) that nobody read for 14 days. [`check_and_repair`] finds either and
//! repairs it: notifications are turned back on, a deleted webhook is created again and every
//! record of the table is queued (its lost events cannot be read; records whose item already
//! holds their content cost the worker no Webflow call).
//!
//! A repaired or new webhook gets a fresh URL token: only its hash is stored, and SmartSuite
//! forgets the URL of a webhook whose notifications are off.

use serde_json::json;
use suiteflow_crypto::{SecretString, generate_secret};
use suiteflow_settings::parts::PublicUrl;
use suiteflow_smartsuite_client::{
    ALL_RECORD_EVENTS, NewWebhook, SmartSuiteClient, Webhook, WebhookFilter,
};
use suiteflow_store::{Connection, ConnectionChanges, ConnectionId, Store, WebhookStatus};
use suiteflow_webhook_security::url_token_hash;

use crate::budget::SmartSuiteBudget;
use crate::connect::Connector;
use crate::failure::Failure;

/// Bytes of randomness in a notification URL's token.
const TOKEN_BYTES: usize = 32;
/// Webhooks listed per `ListWebhooks` call.
const LIST_PAGE: u32 = 100;

/// The URL SmartSuite notifies for connection `id`: the ingress's route with the URL token.
pub fn notification_url(public: &PublicUrl, id: ConnectionId, token: &SecretString) -> String {
    public.join(&format!("api/hooks/smartsuite/{id}/{}", token.expose()))
}

/// A webhook just registered.
#[derive(Debug)]
pub struct Registered {
    pub webhook_id: String,
    /// Its notification URL, with the token: shown once, never stored.
    pub url: String,
}

/// Registers a webhook for the connection's table with a fresh URL token and stores it on the
/// connection (its id, the token's hash, the solution; the events cursor starts over). The
/// connection's previous webhook, if any, is left to the caller.
pub async fn register(
    store: &Store,
    connection: &Connection,
    client: &SmartSuiteClient,
    budget: &SmartSuiteBudget<'_>,
    public: &PublicUrl,
) -> Result<Registered, Failure> {
    let solution = match connection.smartsuite_solution_id.clone() {
        Some(solution) => solution,
        None => budget
            .call("table", client.get_table(&connection.smartsuite_table_id))
            .await?
            .solution
            .ok_or_else(|| {
                Failure::permanent(
                    "SmartSuite did not say which solution the table belongs to: recreate the \
                     connection with --smartsuite-solution",
                )
            })?,
    };
    let token = generate_secret(TOKEN_BYTES);
    let url = notification_url(public, connection.id, &token);
    let new = NewWebhook {
        solution_id: solution.clone(),
        filter: WebhookFilter::applications(&[connection.smartsuite_table_id.as_str()]),
        kinds: ALL_RECORD_EVENTS.iter().map(|k| (*k).to_string()).collect(),
        notification_url: url.clone(),
    };
    let webhook = budget.call("webhook", client.create_webhook(&new)).await?;
    let webhook_id = webhook.webhook_id.ok_or_else(|| {
        Failure::permanent("SmartSuite created a webhook but returned no webhook_id")
    })?;
    let changes = ConnectionChanges {
        smartsuite_solution_id: Some(Some(solution)),
        smartsuite_webhook_id: Some(Some(webhook_id.clone())),
        smartsuite_webhook_token_hash: Some(Some(url_token_hash(token.expose()))),
        // a new webhook has its own event stream
        smartsuite_events_cursor: Some(None),
        smartsuite_webhook_kept_alive_at: Some(None),
        ..ConnectionChanges::default()
    };
    let mut conn = store.get().await?;
    suiteflow_store::update_connection(&mut conn, connection.id, &changes).await?;
    Ok(Registered { webhook_id, url })
}

/// A webhook registered in place of the connection's previous one.
#[derive(Debug)]
pub struct Replaced {
    pub webhook_id: String,
    /// Its notification URL, with the token: shown once, never stored.
    pub url: String,
    /// The previous webhook, deleted.
    pub replaced: Option<String>,
    /// The previous webhook could not be deleted (it keeps notifying until it is).
    pub warning: Option<String>,
}

/// Registers a new webhook for the connection (paid from its budgets, waiting for a permit as
/// a person would) and deletes the previous one: what `connection register-webhook` and the
/// console do, recorded in the audit log as `actor`'s (the webhook ids, never the URL, which
/// holds the token).
pub async fn replace(
    store: &Store,
    connector: &Connector,
    actor: crate::admin::Actor,
    connection: &Connection,
    public: &PublicUrl,
) -> Result<Replaced, Failure> {
    if connection.status == suiteflow_store::ConnectionStatus::Archived {
        return Err(Failure::permanent(format!(
            "connection {} is archived",
            connection.id
        )));
    }
    let session = connector.session(store, connection)?;
    let (client, budget) = (&session.clients.smartsuite, &session.smartsuite);
    let registered = register(store, connection, client, budget, public).await?;
    let mut replaced = None;
    let mut warning = None;
    if let Some(old) = connection
        .smartsuite_webhook_id
        .as_deref()
        .filter(|old| *old != registered.webhook_id)
    {
        match budget.call("webhook", client.delete_webhook(old)).await {
            Ok(()) => replaced = Some(old.to_string()),
            Err(e) => {
                warning = Some(format!(
                    "could not delete the previous SmartSuite webhook {old}: {e}"
                ));
            }
        }
    }
    let details = serde_json::json!({
        "smartsuiteWebhookId": registered.webhook_id,
        "replacedWebhookId": replaced,
    });
    crate::admin::record(
        store,
        actor,
        "connection.register_webhook",
        Some(connection.id),
        &details,
    )
    .await;
    Ok(Replaced {
        webhook_id: registered.webhook_id,
        url: registered.url,
        replaced,
        warning,
    })
}

/// What [`check_and_repair`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The webhook's state after the repair (`Ok` when the repair worked).
    pub status: WebhookStatus,
    /// The webhook checked (a recreated one's new id).
    pub webhook_id: String,
    pub detail: String,
    pub repair: Option<Repair>,
}

/// A repair [`check_and_repair`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repair {
    /// Notifications were off and are on again.
    Reenabled,
    /// The webhook was gone; a new one was registered and `queued` records were queued.
    Recreated { queued: u64 },
}

/// Checks the connection's webhook with `ListWebhooks` and repairs what it finds, then records
/// the outcome (`webhook_checks`). A connection without a webhook is not checked (`None`).
pub async fn check_and_repair(
    store: &Store,
    connector: &Connector,
    connection: &Connection,
    public: &PublicUrl,
) -> Result<Option<Checked>, Failure> {
    let Some(webhook_id) = connection.smartsuite_webhook_id.clone() else {
        return Ok(None);
    };
    let checked = match connector.clients(connection) {
        Ok(clients) => {
            let budget = connector.smartsuite_budget(store, &clients.smartsuite_fingerprint);
            check(
                store,
                connector,
                connection,
                public,
                &clients.smartsuite,
                &budget,
                webhook_id,
            )
            .await
        }
        Err(failure) => Checked {
            status: WebhookStatus::Failed,
            detail: format!("the connection's credentials cannot be used: {failure}"),
            webhook_id,
            repair: None,
        },
    };
    let mut conn = store.get().await?;
    suiteflow_store::record_webhook_check(
        &mut conn,
        connection.id,
        &checked.webhook_id,
        checked.status,
        Some(&checked.detail),
    )
    .await?;
    metrics::counter!("smartsuite_webhook_checks_total", "status" => checked.status.as_str())
        .increment(1);
    Ok(Some(checked))
}

async fn check(
    store: &Store,
    connector: &Connector,
    connection: &Connection,
    public: &PublicUrl,
    client: &SmartSuiteClient,
    budget: &SmartSuiteBudget<'_>,
    webhook_id: String,
) -> Checked {
    match find(client, budget, connection, &webhook_id).await {
        Err(failure) => Checked {
            status: WebhookStatus::Failed,
            webhook_id: webhook_id.clone(),
            detail: format!("ListWebhooks failed: {failure}"),
            repair: None,
        },
        Ok(Some(webhook)) if webhook.notification_url().is_some() => Checked {
            status: WebhookStatus::Ok,
            webhook_id: webhook_id.clone(),
            detail: "registered, notifications on".into(),
            repair: None,
        },
        Ok(Some(webhook)) => {
            match reenable(store, connection, client, budget, public, webhook).await {
                Ok(()) => {
                    tracing::info!(connection_id = %connection.id.0, webhook_id, "SmartSuite webhook notifications were off: turned back on");
                    Checked {
                        status: WebhookStatus::Ok,
                        webhook_id: webhook_id.clone(),
                        detail: "notifications were off: turned back on".into(),
                        repair: Some(Repair::Reenabled),
                    }
                }
                Err(failure) => Checked {
                    status: WebhookStatus::Disabled,
                    webhook_id: webhook_id.clone(),
                    detail: format!("notifications are off and could not be turned on: {failure}"),
                    repair: None,
                },
            }
        }
        Ok(None) => match recreate(store, connector, connection, client, budget, public).await {
            Ok((new_id, queued)) => {
                tracing::warn!(connection_id = %connection.id.0, old_webhook_id = webhook_id, webhook_id = new_id, queued, "SmartSuite webhook was deleted: registered a new one and queued every record");
                Checked {
                    status: WebhookStatus::Ok,
                    detail: format!(
                        "webhook {webhook_id} was deleted by SmartSuite: registered {new_id} and \
                         queued {queued} records to catch up"
                    ),
                    webhook_id: new_id,
                    repair: Some(Repair::Recreated { queued }),
                }
            }
            Err(failure) => Checked {
                status: WebhookStatus::Missing,
                webhook_id: webhook_id.clone(),
                detail: format!(
                    "webhook {webhook_id} is gone and could not be registered again: {failure}"
                ),
                repair: None,
            },
        },
    }
}

/// The connection's webhook in SmartSuite's list (of its solution), if it is there.
async fn find(
    client: &SmartSuiteClient,
    budget: &SmartSuiteBudget<'_>,
    connection: &Connection,
    webhook_id: &str,
) -> Result<Option<Webhook>, Failure> {
    let mut token = String::new();
    loop {
        let page = budget
            .call(
                "webhooks",
                client.list_webhooks(
                    connection.smartsuite_solution_id.as_deref(),
                    LIST_PAGE,
                    &token,
                ),
            )
            .await?;
        if let Some(found) = page
            .webhooks
            .into_iter()
            .find(|w| w.webhook_id.as_deref() == Some(webhook_id))
        {
            return Ok(Some(found));
        }
        if page.next_page_token.is_empty() || page.next_page_token == token {
            return Ok(None);
        }
        token = page.next_page_token;
    }
}

/// Turns the webhook's notifications back on, with a fresh URL token (stored first: the
/// webhook sends nothing while its notifications are off).
async fn reenable(
    store: &Store,
    connection: &Connection,
    client: &SmartSuiteClient,
    budget: &SmartSuiteBudget<'_>,
    public: &PublicUrl,
    mut webhook: Webhook,
) -> Result<(), Failure> {
    let token = generate_secret(TOKEN_BYTES);
    {
        let mut conn = store.get().await?;
        let changes = ConnectionChanges {
            smartsuite_webhook_token_hash: Some(Some(url_token_hash(token.expose()))),
            ..ConnectionChanges::default()
        };
        suiteflow_store::update_connection(&mut conn, connection.id, &changes).await?;
    }
    webhook.notification_status =
        Some(json!({"enabled": {"url": notification_url(public, connection.id, &token)}}));
    budget
        .call("webhook", client.update_webhook(&webhook))
        .await?;
    Ok(())
}

/// Registers a new webhook for a deleted one and queues every record of the table (the
/// deleted webhook's stored events are lost). Returns the new id and how many were queued.
async fn recreate(
    store: &Store,
    connector: &Connector,
    connection: &Connection,
    client: &SmartSuiteClient,
    budget: &SmartSuiteBudget<'_>,
    public: &PublicUrl,
) -> Result<(String, u64), Failure> {
    let registered = register(store, connection, client, budget, public).await?;
    let queued = crate::backfill::queue_all(
        store,
        connector,
        connection,
        &crate::backfill::QueueAll::default(),
        &mut |_| {},
    )
    .await?;
    Ok((registered.webhook_id, queued.enqueued))
}
