//! `--prune`: the mapping's `deleteBehavior` applied to the orphans (items no record holds), in
//! bulk calls of 100. Every behaviour takes the item off the live site first: archiving or
//! deleting only the staged item would leave its live copy up until the next site publish.
//! When Webflow refuses a bulk call because of some of its items (one gone since the plan,
//! one never published), the items are taken one by one and those refusals are tolerated.

use std::future::Future;

use serde_json::Map;
use suiteflow_mapper::DeleteBehavior;
use suiteflow_store::{Connection, Store};
use suiteflow_webflow_client::{Error as WebflowError, Item, ItemData, ItemUpdate, Reply, Target};

use super::Plan;
use crate::budget::WebflowBudget;
use crate::connect::Connector;
use crate::failure::Failure;
use crate::write::BULK_LIMIT;

/// Applies `deleteBehavior` to the plan's orphans; returns how many were pruned.
pub(super) async fn prune_orphans(
    store: &Store,
    connector: &Connector,
    connection: &Connection,
    plan: &Plan,
) -> Result<usize, Failure> {
    let session = connector.session(store, connection)?;
    let (webflow, budget) = (&session.clients.webflow, &session.webflow);
    let collection = connection.webflow_collection_id.as_str();
    for chunk in plan.orphans.chunks(BULK_LIMIT) {
        let all: Vec<String> = chunk.iter().map(|i| i.id.clone()).collect();
        let live: Vec<String> = chunk
            .iter()
            .filter(|i| i.last_published.is_some())
            .map(|i| i.id.clone())
            .collect();
        if !live.is_empty() {
            each_if_refused(
                budget,
                &live,
                webflow.unpublish_items(collection, &live),
                |id| webflow.unpublish_item(collection, id),
            )
            .await?;
        }
        match plan.delete_behavior {
            DeleteBehavior::Unpublish => {}
            DeleteBehavior::Archive => {
                let updates: Vec<ItemUpdate> = chunk.iter().map(archived).collect();
                each_if_refused(
                    budget,
                    &all,
                    webflow.update_items(collection, &updates, Target::Staged),
                    |id| {
                        let data = archived_data();
                        async move {
                            webflow
                                .update_item(collection, id, &data, Target::Staged)
                                .await
                        }
                    },
                )
                .await?;
            }
            DeleteBehavior::Delete => {
                each_if_refused(budget, &all, webflow.delete_items(collection, &all), |id| {
                    webflow.delete_item(collection, id)
                })
                .await?;
            }
        }
    }
    Ok(plan.orphans.len())
}

fn archived_data() -> ItemData {
    let mut data = ItemData::new(Map::new());
    data.is_archived = Some(true);
    data
}

fn archived(item: &Item) -> ItemUpdate {
    ItemUpdate {
        id: item.id.clone(),
        data: archived_data(),
    }
}

/// Makes the bulk call; when Webflow refuses it for some of its items (gone, never published,
/// invalid), calls `one` for each id instead, tolerating those same refusals.
async fn each_if_refused<'i, T, U, Fut>(
    budget: &WebflowBudget<'_>,
    ids: &'i [String],
    bulk: impl Future<Output = Result<Reply<T>, WebflowError>>,
    one: impl Fn(&'i str) -> Fut,
) -> Result<(), Failure>
where
    Fut: Future<Output = Result<Reply<U>, WebflowError>>,
{
    match budget.send(bulk).await? {
        Ok(_) => Ok(()),
        Err(e) if is_about_an_item(&e) => {
            for id in ids {
                match budget.send(one(id)).await? {
                    Ok(_) => {}
                    Err(e) if is_about_an_item(&e) => {
                        tracing::info!(item_id = %id, error = %e, "an orphan could not be pruned; left as it is");
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// A refusal caused by one item of a call, not by the call or the credentials.
fn is_about_an_item(e: &WebflowError) -> bool {
    matches!(
        e,
        WebflowError::NotFound { .. }
            | WebflowError::NeverPublished { .. }
            | WebflowError::Validation { .. }
    )
}
