//! `suiteflow migrate`

use serde_json::json;

use crate::Settings;
use crate::error::{CliResult, ResultExt as _};
use crate::output::print_json;

pub async fn run(settings: &Settings, json: bool) -> CliResult {
    let applied = suiteflow_store::run_migrations(settings.database.url.expose())
        .await
        .or_fail("migrating the database")?;
    if json {
        print_json(&json!({ "applied": applied }));
    } else if applied.is_empty() {
        println!("database is up to date");
    } else {
        for version in &applied {
            println!("applied {version}");
        }
    }
    Ok(())
}
