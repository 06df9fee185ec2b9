//! Events: the list (filtered by connection, status, type and record; paged by `seq`, never by
//! offset), an event's page with everything known of it, and its replay.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use suiteflow_store::{EventId, EventStatus};
use suiteflow_sync::admin::{self, Actor};

use crate::auth::see_other;
use crate::error::{ConsoleError, PageError};
use crate::html::{Page, Section, action_button, badge, facts, json_block, notice};
use crate::pages::Done;
use crate::state::AppState;
use crate::views::{self, EventQuery, EventRow};

pub async fn list(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<EventQuery>,
) -> Result<Markup, PageError> {
    let filter = query.filter()?;
    let page_of = views::events(state.store(), &filter).await?;
    let connections = views::connections(state.store()).await?;
    let page = Page::new(&session, "Events", Section::Events);
    let selected = |value: &Option<String>, option: &str| value.as_deref() == Some(option);
    let next = page_of.next_cursor.map(|cursor| {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("status", &query.status),
            ("connection", &query.connection),
            ("type", &query.event_type),
            ("record", &query.record),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                pairs.append_pair(key, value);
            }
        }
        pairs.append_pair("cursor", &cursor.to_string());
        format!("/events?{}", pairs.finish())
    });
    Ok(page.render(html! {
        form.filters method="get" action="/events" {
            label for="connection" { "Connection" }
            select id="connection" name="connection" {
                option value="" { "any" }
                @for c in &connections {
                    option value=(c.id) selected[selected(&query.connection, &c.id.to_string())] { (c.name) }
                }
            }
            label for="status" { "Status" }
            select id="status" name="status" {
                option value="" { "any" }
                @for s in EventStatus::ALL {
                    option value=(s.as_str()) selected[selected(&query.status, s.as_str())] { (s.as_str().replace('_', " ")) }
                }
            }
            label for="type" { "Type" }
            input id="type" name="type" value=(query.event_type.clone().unwrap_or_default()) placeholder="record_updated";
            label for="record" { "Record id" }
            input id="record" name="record" value=(query.record.clone().unwrap_or_default());
            button type="submit" { "Filter" }
        }
        (event_table(&page_of.events))
        @if let Some(next) = next {
            p { a href=(next) rel="next" { "Older events" } }
        }
    }))
}

/// A table of events, linking to each.
pub fn event_table(events: &[EventRow]) -> Markup {
    html! {
        @if events.is_empty() {
            p { "No event." }
        } @else {
            table {
                thead {
                    tr {
                        th scope="col" { "Queued" }
                        th scope="col" { "Status" }
                        th scope="col" { "Type" }
                        th scope="col" { "Record" }
                        th scope="col" { "Attempts" }
                        th scope="col" { "Error" }
                    }
                }
                tbody {
                    @for e in events {
                        tr {
                            td { a href={ "/events/" (e.id.0) } { (e.queued_at) } }
                            td {
                                (badge(&e.status))
                                @if e.partial_success { " " (badge("partial")) }
                            }
                            td { (e.event_type) }
                            td { code { (e.external_id) } }
                            td { (e.attempts) }
                            td { (e.error.clone().unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    }
}

fn parse_id(text: &str) -> Result<EventId, ConsoleError> {
    text.parse::<EventId>()
        .map_err(|_| ConsoleError::NotFound(format!("unknown event {text}")))
}

pub async fn detail(
    state: web::Data<AppState>,
    session: Session,
    id: web::Path<String>,
    done: web::Query<Done>,
) -> Result<Markup, PageError> {
    let id = parse_id(&id)?;
    let e = views::event(state.store(), id).await?;
    let title = format!("Event {}", e.row.seq);
    let page = Page::new(&session, &title, Section::Events);
    let csrf = page.csrf();
    // What the engine replays: finished events and those waiting for a retry.
    let replayable = !matches!(e.row.status.as_str(), "queued" | "processing");
    Ok(page.render(html! {
        @if let Some(done) = &done.done {
            (notice(done))
        }
        p { (badge(&e.row.status)) @if e.row.partial_success { " " (badge("partial")) } }
        (facts(&[
            ("Event id", Some(e.row.id.0.to_string())),
            ("Connection", Some(e.row.connection_id.to_string())),
            ("Kind and type", Some(format!("{} · {}", e.row.kind, e.row.event_type))),
            ("Record", Some(e.row.external_id.clone())),
            ("Attempts", Some(e.row.attempts.to_string())),
            ("Queued", Some(e.row.queued_at.clone())),
            ("Started", e.started_at.clone()),
            ("Finished", e.row.processed_at.clone()),
            ("Retry after", e.retry_after.clone()),
            ("Webflow item", e.row.webflow_item_id.clone()),
            ("Error", e.row.error.clone()),
            ("Idempotency key", Some(e.idempotency_key.clone())),
        ]))
        p {
            a href={ "/connections/" (e.row.connection_id) } { "The connection" } " · "
            a href={ "/events?connection=" (e.row.connection_id) "&record=" (e.row.external_id) } { "Every event of this record" }
        }
        @if replayable {
            section.actions aria-label="Actions" {
                h2 { "Replay" }
                p { "Put the event back in the queue, its attempts reset." }
                (action_button(&format!("/events/{}/replay", e.row.id.0), csrf, "Replay this event"))
            }
        }
        @if let Some(detail) = &e.error_detail {
            (json_block("Error detail", detail))
        }
        @if let Some(warnings) = &e.warnings {
            (json_block("Warnings", warnings))
        }
        (json_block("Payload", &e.payload))
    }))
}

/// `POST /events/{id}/replay`.
pub async fn replay(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = parse_id(&id)?;
    let before = admin::replay(state.store(), Actor::Console, id).await?;
    Ok(see_other(&format!(
        "/events/{}?done=Replayed:+the+event+was+{}+and+is+queued+again.",
        id.0,
        before.status.as_str().replace('_', "+")
    )))
}
