//! `suiteflow mapping …`

use std::io::Read as _;
use std::path::Path;

use serde_json::{Value, json};
use suiteflow_mapper::schema::smartsuite::Table;
use suiteflow_mapper::schema::webflow::{Collection, Field, WebflowFieldType};
use suiteflow_mapper::{DocumentFormat, MapError, MappingDocument, MappingProblem, validate};
use suiteflow_store::{Connection, Mapping};
use suiteflow_sync::Schemas;
use suiteflow_sync::admin::{self, Actor};
use suiteflow_sync::preview::PreviewError;

use crate::error::{CliResult, ResultExt as _, failure, refused};
use crate::output::{print_json, timestamp};
use crate::{CommandContext, FormatArg, MappingCommand};

pub async fn run(ctx: &CommandContext, command: MappingCommand) -> CliResult {
    match command {
        MappingCommand::Set {
            connection,
            file,
            format,
            offline,
        } => set(ctx, &connection, &file, format, offline).await,
        MappingCommand::Show { connection } => show(ctx, &connection).await,
        MappingCommand::Preview {
            connection,
            record,
            file,
            format,
        } => preview(ctx, &connection, &record, file.as_deref(), format).await,
    }
}

/// Reads and parses a mapping document (`-` is standard input). A document that does not parse
/// is refused (exit 3).
pub fn read_document(path: &Path, format: Option<FormatArg>) -> CliResult<MappingDocument> {
    let text = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| failure(format!("reading the mapping from standard input: {e}")))?;
        text
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| refused(format!("cannot read {}: {e}", path.display())))?
    };
    let format = match format {
        Some(FormatArg::Json) => DocumentFormat::Json,
        Some(FormatArg::Yaml) => DocumentFormat::Yaml,
        Some(FormatArg::Toml) => DocumentFormat::Toml,
        None => path
            .extension()
            .and_then(|e| e.to_str())
            .and_then(DocumentFormat::from_extension)
            .unwrap_or(DocumentFormat::Json),
    };
    MappingDocument::parse(&text, format)
        .map_err(|e| refused(format!("{}: {e}; nothing was stored", path.display())))
}

/// The stored mapping as the document a person wrote.
pub fn stored_document(mapping: &Mapping) -> CliResult<MappingDocument> {
    suiteflow_sync::mapping::document(mapping)
        .map_err(|e| failure(format!("the stored mapping does not parse: {e}")))
}

/// The connection's SmartSuite table and Webflow collection, read now, as the mapper sees them.
pub async fn live_schemas(ctx: &CommandContext, connection: &Connection) -> CliResult<Schemas> {
    let session = ctx.session(connection)?;
    session
        .schemas()
        .await
        .map_err(|e| failure(format!("reading the live schemas: {e}")))
}

/// Prints every problem (stderr, and JSON on stdout with --json) and returns the refusal.
fn refuse_problems(
    ctx: &CommandContext,
    problems: &[MappingProblem],
    what: &str,
) -> crate::CliError {
    for problem in problems {
        eprintln!("  - {problem}");
    }
    if ctx.json {
        let listed: Vec<Value> = problems
            .iter()
            .map(|p| {
                let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
                if let Value::Object(map) = &mut v {
                    map.insert("message".into(), json!(p.to_string()));
                }
                v
            })
            .collect();
        print_json(&json!({ "stored": false, "problems": listed }));
    }
    refused(format!(
        "{what}: {} problem{} (listed above); nothing was stored",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    ))
}

/// Problems that need the live schemas to judge; an offline check leaves them out.
fn needs_schema(problem: &MappingProblem) -> bool {
    matches!(
        problem,
        MappingProblem::UnknownTargetField { .. }
            | MappingProblem::TargetNotEditable { .. }
            | MappingProblem::UnknownSourceField { .. }
            | MappingProblem::TypeIncompatible { .. }
            | MappingProblem::UnmappedRequiredField { .. }
    )
}

/// Checks what can be checked without the schemas: a collection with every target as plain
/// text and an empty table, ignoring the problems only real schemas can decide.
fn offline_problems(doc: &MappingDocument) -> Vec<MappingProblem> {
    let mut collection = Collection::default();
    for slug in ["name", "slug"]
        .into_iter()
        .chain(doc.field_map.keys().map(String::as_str))
    {
        if collection.field(slug).is_none() {
            collection
                .fields
                .push(Field::new(slug, WebflowFieldType::parse("PlainText")));
        }
    }
    match validate(doc, &Table::default(), &collection) {
        Ok(_) => Vec::new(),
        Err(problems) => problems.into_iter().filter(|p| !needs_schema(p)).collect(),
    }
}

async fn set(
    ctx: &CommandContext,
    reference: &str,
    file: &Path,
    format: Option<FormatArg>,
    offline: bool,
) -> CliResult {
    let doc = read_document(file, format)?;
    let connection = ctx.connection(reference).await?;
    if offline {
        let problems = offline_problems(&doc);
        if !problems.is_empty() {
            return Err(refuse_problems(ctx, &problems, "mapping refused"));
        }
        eprintln!(
            "warning: checked offline only; run `suiteflow check {}` once the credentials work",
            connection.id
        );
    } else {
        let schemas = live_schemas(ctx, &connection).await.map_err(|e| {
            failure(format!(
                "{e}\ncannot check the mapping against the live schemas; fix the credentials \
                 (`suiteflow check {}`) or pass --offline; nothing was stored",
                connection.id
            ))
        })?;
        if let Err(problems) = validate(&doc, &schemas.table, &schemas.collection) {
            return Err(refuse_problems(ctx, &problems, "mapping refused"));
        }
    }
    let mut db = ctx.db().await?;
    let previous = suiteflow_store::get_mapping(&mut db, connection.id)
        .await
        .or_fail("loading the mapping")?;
    let new = suiteflow_sync::mapping::new_mapping(&doc, previous.as_ref())
        .map_err(|e| refused(format!("{e}; nothing was stored")))?;
    let stored = suiteflow_store::set_mapping(&mut db, connection.id, &new)
        .await
        .or_fail("storing the mapping")?;
    let details = json!({
        "version": stored.version,
        "checked": if offline { "offline" } else { "live" },
    });
    admin::record(
        &ctx.store,
        Actor::Cli,
        "mapping.set",
        Some(connection.id),
        &details,
    )
    .await;
    if ctx.json {
        print_json(&json!({
            "connectionId": connection.id,
            "stored": true,
            "version": stored.version,
            "fields": doc.field_map.len(),
            "checked": if offline { "offline" } else { "live" },
            "transliterateSlugs": stored.transliterate_slugs,
        }));
    } else {
        println!(
            "mapping version {} stored for connection {} ({} fields, checked {}; slugs {})",
            stored.version,
            connection.id,
            doc.field_map.len(),
            if offline {
                "offline"
            } else {
                "against the live schemas"
            },
            if stored.transliterate_slugs {
                "spell other scripts in Latin letters"
            } else {
                "keep Latin letters and digits only"
            }
        );
    }
    Ok(())
}

async fn load_mapping(ctx: &CommandContext, connection: &Connection) -> CliResult<Mapping> {
    let mut db = ctx.db().await?;
    suiteflow_store::get_mapping(&mut db, connection.id)
        .await
        .or_fail("loading the mapping")?
        .ok_or_else(|| {
            refused(format!(
                "connection {} has no mapping (set one with `suiteflow mapping set`)",
                connection.id
            ))
        })
}

async fn show(ctx: &CommandContext, reference: &str) -> CliResult {
    let connection = ctx.connection(reference).await?;
    let mapping = load_mapping(ctx, &connection).await?;
    let doc = stored_document(&mapping)?.to_json();
    if ctx.json {
        print_json(&json!({
            "connectionId": connection.id,
            "version": mapping.version,
            "createdAt": timestamp(mapping.created_at),
            "updatedAt": timestamp(mapping.updated_at),
            "mapping": doc,
        }));
    } else {
        eprintln!(
            "# mapping version {} of connection {}, updated {}",
            mapping.version,
            connection.id,
            timestamp(mapping.updated_at)
        );
        print_json(&doc);
    }
    Ok(())
}

async fn preview(
    ctx: &CommandContext,
    reference: &str,
    record_id: &str,
    file: Option<&Path>,
    format: Option<FormatArg>,
) -> CliResult {
    let connection = ctx.connection(reference).await?;
    let doc = match file {
        // The document as `mapping set` would store it (`transliterateSlugs` decided).
        Some(path) => {
            let doc = read_document(path, format)?;
            let mut db = ctx.db().await?;
            let previous = suiteflow_store::get_mapping(&mut db, connection.id)
                .await
                .or_fail("loading the mapping")?;
            suiteflow_sync::mapping::as_stored(&doc, previous.as_ref())
        }
        None => stored_document(&load_mapping(ctx, &connection).await?)?,
    };
    let preview = match suiteflow_sync::preview::preview(
        &ctx.store,
        &ctx.connector,
        &connection,
        &doc,
        record_id,
    )
    .await
    {
        Ok(preview) => preview,
        Err(PreviewError::Invalid(problems)) => {
            return Err(refuse_problems(ctx, &problems, "the mapping is invalid"));
        }
        Err(e @ PreviewError::NoRecord { .. }) => return Err(refused(e)),
        Err(PreviewError::Failed(f)) => {
            return Err(failure(format!("previewing record {record_id}: {f}")));
        }
    };
    for (handle, f) in &preview.unresolved_files {
        eprintln!("warning: no public URL for file {handle}: {f}");
    }
    match preview.mapped {
        Ok(item) => {
            if ctx.json {
                print_json(&json!({
                    "connectionId": connection.id,
                    "recordId": record_id,
                    "ok": true,
                    "slug": item.slug.as_str(),
                    "transliterateSlugs": preview.transliterate_slugs,
                    "isDraft": item.status.is_draft,
                    "isArchived": item.status.is_archived,
                    "fieldData": item.field_data,
                    "warnings": item.warnings,
                    "contentHash": item.content_hash(),
                }));
            } else {
                println!(
                    "slug: {}{}  draft: {}  archived: {}",
                    item.slug.as_str(),
                    if preview.transliterate_slugs {
                        " (other scripts spelled in Latin letters)"
                    } else {
                        ""
                    },
                    item.status.is_draft,
                    item.status.is_archived
                );
                println!("fieldData:");
                print_json(&Value::Object(item.field_data.clone()));
                if item.warnings.is_empty() {
                    println!("warnings: none");
                } else {
                    println!("warnings:");
                    for warning in &item.warnings {
                        println!("  - {warning}");
                    }
                }
            }
            Ok(())
        }
        Err(MapError::MissingRequired { fields, warnings }) => {
            if ctx.json {
                print_json(&json!({
                    "connectionId": connection.id,
                    "recordId": record_id,
                    "ok": false,
                    "missingRequired": fields,
                    "warnings": warnings,
                }));
            } else {
                for warning in &warnings {
                    eprintln!("  - {warning}");
                }
            }
            Err(refused(format!(
                "record {record_id} would fail: missing required fields {}",
                fields.join(", ")
            )))
        }
    }
}
