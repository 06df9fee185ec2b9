//! The budgets of the two APIs, kept where the APIs count them: in PostgreSQL, shared by every
//! connection and replica that uses the same credential. Every call the engine makes goes
//! through one: take a permit, make the call, observe what the answer says about the limit.
//!
//! - [`WebflowBudget`]: the token's bucket (sized by Webflow's `X-RateLimit-Limit` once it
//!   announces it, paused by a 429's `Retry-After` for every replica) and the connection's own
//!   cap below it (`rate_limit_per_min`).
//! - [`SmartSuiteBudget`]: the API key's bucket (5 requests a second; a 429 pauses the key for
//!   every replica), and the key's calls counted per month against the plan's quota.

mod smartsuite;
mod webflow;

use std::time::Duration;

use time::OffsetDateTime;

pub use smartsuite::{QUOTA_WARNING, REQUESTS_PER_SECOND, SmartSuiteBudget};
pub use webflow::WebflowBudget;

/// Longest wait for a permit inside a batch; beyond it the events are rescheduled instead of
/// holding their claim.
pub const BATCH_PERMIT_WAIT: Duration = Duration::from_secs(5);
/// Longest wait for a permit in a command a person runs (a preview, a check, a backfill): it
/// has nothing better to do than wait for the budget.
pub const PERSON_WAIT: Duration = Duration::from_secs(600);

/// How long until `until`, never negative.
fn wait_until(until: OffsetDateTime) -> Duration {
    Duration::try_from(until - OffsetDateTime::now_utc()).unwrap_or_default()
}
