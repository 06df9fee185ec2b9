//! What became of an event the engine processed.

use crate::Failure;

/// The result of processing one event.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Written (or nothing needed writing): the item it concerns and the fields that failed
    /// to map (a partial success).
    Done {
        webflow_item_id: Option<String>,
        warnings: Vec<String>,
        /// Webflow's answer for the item, when the event wrote it: its id, `lastPublished` and
        /// `isDraft`, never its field data.
        webflow_response: Option<serde_json::Value>,
    },
    /// Completed inside the processing's own transaction (a pull): nothing left to record.
    Recorded,
    /// Nothing to write, for the reason given: the record's item already holds a newer state
    /// (the event is older, by the record's own clock, than what was last written).
    Skipped(String),
    Failed(Failure),
}

impl Outcome {
    pub fn done(webflow_item_id: Option<String>, warnings: Vec<String>) -> Self {
        Self::Done {
            webflow_item_id,
            warnings,
            webflow_response: None,
        }
    }

    /// Written: Webflow answered with `item`.
    pub fn written(item: &suiteflow_webflow_client::Item, warnings: Vec<String>) -> Self {
        Self::Done {
            webflow_item_id: Some(item.id.clone()),
            warnings,
            webflow_response: Some(serde_json::json!({
                "id": item.id,
                "lastPublished": item.last_published,
                "isDraft": item.is_draft,
            })),
        }
    }
}

impl From<Failure> for Outcome {
    fn from(failure: Failure) -> Self {
        Self::Failed(failure)
    }
}
