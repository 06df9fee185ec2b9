//! A connection's mapping: the current document, its versions, and a preview of one record
//! (the sync engine's preview: fieldData and warnings, writing nothing).

use actix_session::Session;
use actix_web::web;
use maud::{Markup, html};
use suiteflow_sync::preview::{PreviewError, preview};

use crate::error::{ConsoleError, PageError};
use crate::html::{Page, Section, json_block};
use crate::pages::connections::parse_id;
use crate::state::AppState;
use crate::views;

#[derive(serde::Deserialize)]
pub struct MappingQuery {
    /// The version to show (the current one by default).
    version: Option<i32>,
    /// A SmartSuite record id to preview.
    record: Option<String>,
}

pub async fn page(
    state: web::Data<AppState>,
    session: Session,
    id: web::Path<String>,
    query: web::Query<MappingQuery>,
) -> Result<Markup, PageError> {
    let id = parse_id(&id)?;
    let connection = views::connection_row(state.store(), id).await?;
    let (mapping, versions) = {
        let mut conn = state.store().get().await.map_err(ConsoleError::from)?;
        let mapping = suiteflow_store::get_mapping(&mut conn, id)
            .await
            .map_err(ConsoleError::from)?;
        let versions = suiteflow_store::mapping_versions(&mut conn, id)
            .await
            .map_err(ConsoleError::from)?;
        (mapping, versions)
    };
    let shown = match query.version {
        Some(v) => versions.iter().find(|m| m.version == v),
        None => versions.first(),
    };
    let record = query
        .record
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let preview_section = match (&mapping, record) {
        (Some(mapping), Some(record)) => {
            let doc = suiteflow_sync::mapping::document(mapping).map_err(|e| {
                ConsoleError::Failed(
                    suiteflow_sync::Failure::permanent(format!(
                        "the stored mapping does not parse: {e}"
                    ))
                    .into(),
                )
            })?;
            let result = preview(state.store(), state.connector(), &connection, &doc, record).await;
            Some(preview_markup(record, result)?)
        }
        _ => None,
    };
    let title = format!("Mapping of {}", connection.name);
    let page = Page::new(&session, &title, Section::Connections);
    Ok(page.render(html! {
        @match shown {
            None => p { "No mapping yet: set one with " code { "suiteflow mapping set" } "." },
            Some(version) => {
                (json_block(&format!("Version {} ({})", version.version, views::rfc3339(version.created_at)), &version.document))
            }
        }
        @if let Some(mapping) = &mapping {
            p {
                "Slugs (current version): "
                @if mapping.transliterate_slugs {
                    "letters of other scripts are spelled in Latin letters ("
                    code { "transliterateSlugs" } " on)."
                } @else {
                    "letters of other scripts are dropped, and a title of only such letters falls back to the record id ("
                    code { "transliterateSlugs" } " off)."
                }
            }
        }
        @if versions.len() > 1 {
            h2 { "Versions" }
            ul {
                @for v in &versions {
                    li { a href={ "/connections/" (id) "/mapping?version=" (v.version) } { "Version " (v.version) } " · " (views::rfc3339(v.created_at)) }
                }
            }
        }
        @if mapping.is_some() {
            h2 { "Preview a record" }
            p { "Maps one live SmartSuite record with the current mapping, as the worker would; nothing is written." }
            form method="get" action={ "/connections/" (id) "/mapping" } {
                label for="record" { "SmartSuite record id" }
                input id="record" name="record" required value=(record.unwrap_or_default());
                button type="submit" { "Preview" }
            }
            @if let Some(section) = preview_section { (section) }
        }
        p { a href={ "/connections/" (id) } { "Back to the connection" } }
    }))
}

fn preview_markup(
    record: &str,
    result: Result<suiteflow_sync::preview::Preview, PreviewError>,
) -> Result<Markup, ConsoleError> {
    Ok(match result {
        Ok(p) => match p.mapped {
            Ok(item) => html! {
                h3 { "Record " code { (record) } }
                p { "Slug: " code { (item.slug.as_str()) } }
                (json_block("fieldData", &serde_json::Value::Object(item.field_data.clone())))
                @if item.warnings.is_empty() {
                    p { "No warning." }
                } @else {
                    h4 { "Warnings" }
                    ul { @for w in &item.warnings { li { (w.to_string()) } } }
                }
                @for (handle, failure) in &p.unresolved_files {
                    p.problem { "File " code { (handle) } ": " (failure.to_string()) }
                }
            },
            Err(e) => {
                html! { p.problem role="alert" { "Record " code { (record) } " cannot be written: " (e.to_string()) } }
            }
        },
        Err(PreviewError::Invalid(problems)) => html! {
            p.problem role="alert" { "The mapping no longer fits the live schemas:" }
            ul { @for p in &problems { li { (p.to_string()) } } }
        },
        Err(PreviewError::NoRecord {
            record_id,
            table_id,
        }) => html! {
            p.problem role="alert" { "No record " code { (record_id) } " in SmartSuite table " code { (table_id) } "." }
        },
        Err(PreviewError::Failed(f)) => return Err(f.into()),
    })
}
