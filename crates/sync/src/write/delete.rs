//! Delete: a record deleted in SmartSuite archives, unpublishes or deletes its item, as the
//! mapping's `deleteBehavior` says; an item already gone is fine. Deleting the staged item
//! alone would leave its live copy on the site until the next site publish, so `delete` takes
//! the live item down first.

use serde_json::Map;
use suiteflow_mapper::DeleteBehavior;
use suiteflow_store::id_map::{self, RecordKey};
use suiteflow_store::{Event, IdMapState};
use suiteflow_webflow_client::{Error as WebflowError, ItemData, Target};

use super::Batch;
use super::update::PatchError;
use crate::failure::Failure;

impl Batch<'_> {
    pub(super) async fn delete(&mut self, event: &Event) -> Result<(), Failure> {
        let key = RecordKey::smartsuite(event.connection_id, &event.external_id);
        let entry = {
            let mut conn = self.store.get().await?;
            id_map::lookup(&mut conn, key).await?
        };
        let Some(item_id) =
            entry.and_then(|e| e.webflow_item_id.filter(|_| e.state != IdMapState::Deleted))
        else {
            return Ok(()); // nothing was written for it
        };
        let behavior = self
            .ctx
            .mapping
            .as_ref()
            .map(|m| m.delete_behavior())
            .unwrap_or_default();
        let ctx = self.ctx;
        let collection = ctx.collection_id();
        match behavior {
            DeleteBehavior::Archive => {
                let mut data = ItemData::new(Map::new());
                data.is_archived = Some(true);
                match self.patch(&item_id, &data, Target::Live).await {
                    Ok(_) | Err(PatchError::Gone) => {}
                    Err(PatchError::SlugTaken) => {
                        return Err(Failure::permanent(
                            "unexpected slug conflict while archiving",
                        ));
                    }
                    Err(PatchError::Failed(f)) => return Err(f),
                }
            }
            DeleteBehavior::Unpublish => {
                let reply = self
                    .budget
                    .send(ctx.webflow.unpublish_item(collection, &item_id))
                    .await?;
                gone_is_fine(reply)?;
            }
            DeleteBehavior::Delete => {
                let live = self
                    .budget
                    .send(ctx.webflow.unpublish_item(collection, &item_id))
                    .await?;
                match live {
                    // Never published, or not live: nothing on the site to take down.
                    Ok(())
                    | Err(
                        WebflowError::NotFound { .. }
                        | WebflowError::NeverPublished { .. }
                        | WebflowError::Validation { .. },
                    ) => {}
                    Err(e) => return Err(e.into()),
                }
                let reply = self
                    .budget
                    .send(ctx.webflow.delete_item(collection, &item_id))
                    .await?;
                gone_is_fine(reply)?;
            }
        }
        let mut conn = self.store.get().await?;
        id_map::mark_deleted(&mut conn, key).await?;
        Ok(())
    }
}

fn gone_is_fine(reply: Result<(), WebflowError>) -> Result<(), Failure> {
    match reply {
        Ok(()) | Err(WebflowError::NotFound { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
