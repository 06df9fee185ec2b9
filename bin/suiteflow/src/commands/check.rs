//! `suiteflow check <connection>`: the sync engine's check report (credentials and access, the
//! SmartSuite key's calls this month, mapping drift, the webhook's health, the links that wait,
//! recent errors), printed. Reads only; exits 1 when a check fails.

use serde_json::{Value, json};
use suiteflow_sync::check::{self, Status};

use crate::CommandContext;
use crate::error::{CliResult, failure};
use crate::output::print_json;

pub async fn run(ctx: &CommandContext, reference: &str) -> CliResult {
    let connection = ctx.connection(reference).await?;
    let report = check::run(&ctx.store, &ctx.connector, &connection)
        .await
        .map_err(|e| failure(format!("checking connection {}: {e}", connection.id)))?;
    let ok = report.ok();
    if ctx.json {
        print_json(&json!({
            "connectionId": connection.id,
            "ok": ok,
            "checks": serde_json::to_value(&report.checks).unwrap_or(Value::Null),
        }));
    } else {
        for check in &report.checks {
            let mark = match check.status {
                Status::Ok => "ok  ",
                Status::Warning => "warn",
                Status::Failed => "FAIL",
                Status::Skipped => "skip",
            };
            println!("[{mark}] {:<22} {}", check.name, check.detail);
            for problem in &check.problems {
                println!("         - {problem}");
            }
        }
    }
    if ok {
        Ok(())
    } else {
        Err(failure(format!(
            "check failed: {}",
            report.failed().join(", ")
        )))
    }
}
