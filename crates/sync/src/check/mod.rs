//! The `check` report of a connection, for the CLI and the console alike: the credentials and
//! their access ("scopes"), the SmartSuite key's calls this month, whether the mapping fits
//! the live schemas (drift), the SmartSuite webhook's health and last read, the links that wait
//! for their record's item, and recent errors. Reads only; every call is paid from the shared
//! budgets.

mod apis;
mod state;

use serde::Serialize;
use suiteflow_mapper::schema::{smartsuite, webflow};
use suiteflow_store::{Connection, ConnectionStatus, Store};

use crate::connect::Connector;
use crate::failure::Failure;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warning,
    Failed,
    Skipped,
}

/// One check: its name, how it came out, what it found, and the problems it lists.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

impl Check {
    fn new(name: &'static str, status: Status, detail: impl Into<String>) -> Self {
        Self {
            name,
            status,
            detail: detail.into(),
            problems: Vec::new(),
        }
    }
}

/// The checks of one connection.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    /// No check failed.
    pub fn ok(&self) -> bool {
        !self.checks.iter().any(|c| c.status == Status::Failed)
    }

    /// The names of the checks that failed.
    pub fn failed(&self) -> Vec<&'static str> {
        self.checks
            .iter()
            .filter(|c| c.status == Status::Failed)
            .map(|c| c.name)
            .collect()
    }
}

/// Runs every check of `connection`. An error: the database failed.
pub async fn run(
    store: &Store,
    connector: &Connector,
    connection: &Connection,
) -> Result<Report, Failure> {
    let mut checks = Vec::new();

    checks.push(match connection.status {
        ConnectionStatus::Active => Check::new("connection_status", Status::Ok, "active"),
        status => Check::new(
            "connection_status",
            Status::Warning,
            format!("{status}: its events are not processed (`connection resume`)"),
        ),
    });

    let mut table: Option<smartsuite::Table> = None;
    let mut collection: Option<webflow::Collection> = None;
    match connector.session(store, connection) {
        Err(e) => checks.push(Check::new("credentials", Status::Failed, e.to_string())),
        Ok(session) => {
            table = apis::check_smartsuite(&session, &mut checks).await;
            checks.push(apis::smartsuite_month(connector, &session).await?);
            collection = apis::check_webflow(&session, &mut checks).await;
        }
    }

    // The mapping against the live schemas.
    let mut db = store.get().await?;
    let mapping = suiteflow_store::get_mapping(&mut db, connection.id).await?;
    drop(db);
    checks.push(match (mapping, &table, &collection) {
        (None, _, _) => Check::new(
            "mapping",
            Status::Failed,
            "no mapping: nothing can be written (`mapping set`)",
        ),
        (Some(_), None, _) | (Some(_), _, None) => Check::new(
            "mapping",
            Status::Skipped,
            "the live schemas could not be read",
        ),
        (Some(mapping), Some(table), Some(collection)) => {
            let doc = crate::mapping::document(&mapping).map_err(|e| {
                Failure::permanent(format!("the stored mapping does not parse: {e}"))
            })?;
            match suiteflow_mapper::validate(&doc, table, collection) {
                Ok(compiled) => {
                    let unmapped: Vec<&str> = collection
                        .fields
                        .iter()
                        .filter(|f| f.is_editable && f.slug != "slug")
                        .map(|f| f.slug.as_str())
                        .filter(|slug| !compiled.targets().any(|t| t == *slug))
                        .collect();
                    let mut detail = format!(
                        "mapping version {} fits the live schemas ({} fields mapped)",
                        mapping.version,
                        doc.field_map.len()
                    );
                    if !unmapped.is_empty() {
                        detail.push_str(&format!("; not mapped: {}", unmapped.join(", ")));
                    }
                    Check::new("mapping", Status::Ok, detail)
                }
                Err(problems) => {
                    let mut check = Check::new(
                        "mapping",
                        Status::Failed,
                        format!(
                            "mapping version {} does not fit the live schemas ({} problems)",
                            mapping.version,
                            problems.len()
                        ),
                    );
                    check.problems = problems.iter().map(ToString::to_string).collect();
                    check
                }
            }
        }
    });

    state::check_state(store, connection, &mut checks).await?;
    Ok(Report { checks })
}
