//! Integration tests of the SmartSuite client against the local stand-in. Loopback only; the
//! rate-limit pause is shortened so every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod errors;
mod rate_limits;
mod records;
mod webhooks;

use std::time::Duration;

use serde_json::json;
use suiteflow_crypto::SecretString;
use suiteflow_smartsuite_client::{SmartSuiteClient, SmartSuiteClientBuilder};
use suiteflow_test_support::smartsuite::SmartSuiteStandIn;

/// A stand-in with one solution and a "Products" table.
pub struct Fixture {
    pub smartsuite: SmartSuiteStandIn,
    pub solution: String,
    pub table: String,
}

pub async fn fixture() -> Fixture {
    let smartsuite = SmartSuiteStandIn::start().await.unwrap();
    let solution = smartsuite.add_solution("Shop");
    let table = smartsuite.add_table(
        &solution,
        "Products",
        vec![
            json!({"slug": "title", "label": "Title", "field_type": "recordtitlefield", "params": {"required": true}}),
            json!({"slug": "s1price0001", "label": "Price", "field_type": "numberfield", "params": {}}),
            json!({"slug": "status", "label": "Status", "field_type": "statusfield",
                   "params": {"choices": [{"value": "backlog", "label": "Backlog"}, {"value": "complete", "label": "Done"}]}}),
            json!({"slug": "s1holo0001", "label": "Hologram", "field_type": "hologramfield", "params": {"beam": 3}, "brand_new_key": true}),
        ],
    );
    Fixture {
        smartsuite,
        solution,
        table,
    }
}

/// A builder for the stand-in with a short 429 pause and fast retries.
pub fn builder(smartsuite: &SmartSuiteStandIn) -> SmartSuiteClientBuilder {
    SmartSuiteClient::builder(
        smartsuite.api_base(),
        smartsuite.webhooks_base(),
        smartsuite.account_id(),
        SecretString::new(smartsuite.api_key()),
    )
    .rate_limit_pause(Duration::from_millis(300))
    .retry_backoff(Duration::from_millis(10), Duration::from_millis(50))
}

pub fn client(smartsuite: &SmartSuiteStandIn) -> SmartSuiteClient {
    builder(smartsuite).build().unwrap()
}
