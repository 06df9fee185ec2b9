//! Connections: the list, a connection's page with its recent events, and its actions (pause,
//! resume, rotate the webhook secret, register the SmartSuite webhook, run the check, replay
//! its dead letters). Every action is the sync engine's, the same the CLI runs.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use suiteflow_store::ConnectionId;
use suiteflow_sync::admin::{self, Actor};
use suiteflow_sync::check::{self, Status};

use crate::auth::see_other;
use crate::error::{ConsoleError, PageError};
use crate::html::{Page, Section, action_button, badge, facts, notice};
use crate::pages::Done;
use crate::pages::events::event_table;
use crate::state::AppState;
use crate::views::{self, ConnectionSummary};

pub async fn list(state: web::Data<AppState>, session: Session) -> Result<Markup, PageError> {
    let connections = views::connections(state.store()).await?;
    let page = Page::new(&session, "Connections", Section::Connections);
    Ok(page.render(html! {
        @if connections.is_empty() {
            p { "No connection yet: create one with " code { "suiteflow connection create" } "." }
        } @else {
            table {
                thead {
                    tr {
                        th scope="col" { "Name" }
                        th scope="col" { "Status" }
                        th scope="col" { "Last success" }
                        th scope="col" { "Errors in a row" }
                        th scope="col" { "Webhook" }
                        th scope="col" { "Webflow budget" }
                    }
                }
                tbody {
                    @for c in &connections {
                        tr {
                            td { a href={ "/connections/" (c.id) } { (c.name) } }
                            td { (badge(&c.status)) }
                            td { (c.last_success_at.clone().unwrap_or_else(|| "never".into())) }
                            td { (c.consecutive_errors) }
                            td { (webhook_cell(c)) }
                            td { (budget_cell(c)) }
                        }
                    }
                }
            }
        }
    }))
}

fn webhook_cell(c: &ConnectionSummary) -> Markup {
    html! {
        @match &c.webhook {
            Some(w) => (badge(&w.status)),
            None => "—",
        }
    }
}

fn budget_cell(c: &ConnectionSummary) -> Markup {
    html! {
        @match &c.budget {
            Some(b) if b.paused_until.is_some() => {
                "paused until " (b.paused_until.clone().unwrap_or_default())
            }
            Some(b) => { (format!("{:.1}", b.available)) " of " (b.burst) " free (" (c.rate_limit_per_min) "/min)" }
            None => { "unused (" (c.rate_limit_per_min) "/min)" }
        }
    }
}

pub fn parse_id(text: &str) -> Result<ConnectionId, ConsoleError> {
    text.parse::<ConnectionId>()
        .map_err(|_| ConsoleError::NotFound(format!("unknown connection {text}")))
}

pub async fn detail(
    state: web::Data<AppState>,
    session: Session,
    id: web::Path<String>,
    done: web::Query<Done>,
) -> Result<Markup, PageError> {
    let id = parse_id(&id)?;
    let c = views::connection(state.store(), id).await?;
    let base = format!("/connections/{id}");
    let s = &c.summary;
    let page = Page::new(&session, &s.name, Section::Connections);
    let csrf = page.csrf();
    Ok(page.render(html! {
        @if let Some(done) = &done.done {
            (notice(done))
        }
        p { (badge(&s.status)) }
        (facts(&[
            ("Connection id", Some(s.id.to_string())),
            ("SmartSuite table", Some(format!("{} (account {})", c.smartsuite_table_id, c.smartsuite_account_id))),
            ("SmartSuite webhook", c.smartsuite_webhook_id.clone()),
            ("Webhook health", s.webhook.as_ref().map(|w| format!("{} at {}: {}", w.status, w.checked_at, w.detail.clone().unwrap_or_default()))),
            ("Webflow collection", Some(format!("{} (site {})", c.webflow_collection_id, c.webflow_site_id))),
            ("Webhook scheme", Some(c.webhook_scheme.clone())),
            ("Mapping", c.mapping_version.map(|v| format!("version {v}"))),
            ("Last success", s.last_success_at.clone()),
            ("Last error", s.last_error.clone().map(|e| format!("{e} ({})", s.last_error_at.clone().unwrap_or_default()))),
            ("Errors in a row", Some(s.consecutive_errors.to_string())),
            ("Webflow writes", Some(format!("at most {} a minute", s.rate_limit_per_min))),
            ("Sync delay", Some(format!("{} ms", c.sync_delay_ms))),
        ]))
        section.actions aria-label="Actions" {
            h2 { "Actions" }
            @if s.status == "active" {
                (action_button(&format!("{base}/pause"), csrf, "Pause"))
            } @else if s.status != "archived" {
                (action_button(&format!("{base}/resume"), csrf, "Resume"))
            }
            (action_button(&format!("{base}/rotate-secret"), csrf, "Rotate the webhook secret"))
            (action_button(&format!("{base}/register-webhook"), csrf, "Register the SmartSuite webhook"))
            a.button href={ (base) "/check" } { "Run the check" }
            a.button href={ (base) "/mapping" } { "Mapping and preview" }
            a.button href={ (base) "/backfill" } { "Backfill" }
            a.button href={ (base) "/replay-dead-letters" } { "Replay its dead letters" }
        }
        section aria-labelledby="recent" {
            h2 id="recent" { "Recent events" }
            (event_table(&c.recent_events))
            p { a href={ "/events?connection=" (id) } { "All its events" } }
        }
    }))
}

/// `POST /connections/{id}/pause` and `…/resume`.
pub async fn set_status(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (id, action) = path.into_inner();
    let id = parse_id(&id)?;
    let status = views::parse_target_status(&action)
        .ok_or_else(|| ConsoleError::NotFound(format!("no action {action}")))?;
    let connection = views::connection_row(state.store(), id).await?;
    admin::set_status(state.store(), Actor::Console, &connection, status).await?;
    Ok(see_other(&format!(
        "/connections/{id}?done=The+connection+is+{}.",
        status.as_str()
    )))
}

/// `POST /connections/{id}/rotate-secret`: the new secret, shown once.
pub async fn rotate_secret(
    state: web::Data<AppState>,
    session: Session,
    id: web::Path<String>,
) -> Result<Markup, PageError> {
    let id = parse_id(&id)?;
    let connection = views::connection_row(state.store(), id).await?;
    let secret =
        admin::rotate_webhook_secret(state.store(), state.keys(), Actor::Console, &connection)
            .await?;
    let page = Page::new(&session, "New webhook secret", Section::Connections);
    Ok(page.render(html! {
        p { "The new secret of " a href={ "/connections/" (id) } { (connection.name) } ":" }
        p { label for="secret" { "Webhook secret" } input id="secret" readonly value=(secret.expose()); }
        p.notice role="status" {
            "Shown only this once. The old secret no longer verifies: update the sender now."
        }
    }))
}

/// `POST /connections/{id}/register-webhook`: a new SmartSuite webhook (the previous one is
/// deleted), its notification URL shown once.
pub async fn register_webhook(
    state: web::Data<AppState>,
    session: Session,
    id: web::Path<String>,
) -> Result<Markup, PageError> {
    let id = parse_id(&id)?;
    let connection = views::connection_row(state.store(), id).await?;
    let registered = suiteflow_sync::webhooks::replace(
        state.store(),
        state.connector(),
        suiteflow_sync::admin::Actor::Console,
        &connection,
        state.public_url(),
    )
    .await?;
    let page = Page::new(
        &session,
        "SmartSuite webhook registered",
        Section::Connections,
    );
    Ok(page.render(html! {
        p { "Webhook " code { (registered.webhook_id) } " notifies " a href={ "/connections/" (id) } { (connection.name) } "." }
        p { label for="url" { "Notification URL" } input id="url" readonly value=(registered.url); }
        p.notice role="status" { "The token in it is shown only this once." }
        @if let Some(old) = &registered.replaced {
            p { "The previous webhook " code { (old) } " was deleted." }
        }
        @if let Some(warning) = &registered.warning {
            p.problem { (warning) }
        }
    }))
}

/// `GET /connections/{id}/check`: the check report (reads only).
pub async fn run_check(
    state: web::Data<AppState>,
    session: Session,
    id: web::Path<String>,
) -> Result<Markup, PageError> {
    let id = parse_id(&id)?;
    let connection = views::connection_row(state.store(), id).await?;
    let report = check::run(state.store(), state.connector(), &connection).await?;
    let title = format!("Check of {}", connection.name);
    let page = Page::new(&session, &title, Section::Connections);
    Ok(page.render(html! {
        p { @if report.ok() { "Every check passed or only warns." } @else { "Failed: " (report.failed().join(", ")) } }
        table {
            thead { tr { th scope="col" { "Check" } th scope="col" { "Result" } th scope="col" { "What it found" } } }
            tbody {
                @for c in &report.checks {
                    tr {
                        td { (c.name) }
                        td { (badge(match c.status { Status::Ok => "ok", Status::Warning => "warning", Status::Failed => "failed", Status::Skipped => "skipped" })) }
                        td {
                            (c.detail)
                            @if !c.problems.is_empty() {
                                ul { @for p in &c.problems { li { (p) } } }
                            }
                        }
                    }
                }
            }
        }
        p { a href={ "/connections/" (id) } { "Back to the connection" } }
    }))
}

/// `GET /connections/{id}/replay-dead-letters`: the confirmation step.
pub async fn confirm_replay(
    state: web::Data<AppState>,
    session: Session,
    id: web::Path<String>,
) -> Result<Markup, PageError> {
    let id = parse_id(&id)?;
    let connection = views::connection_row(state.store(), id).await?;
    let dead = {
        let mut conn = state.store().get().await.map_err(ConsoleError::from)?;
        suiteflow_store::queue::dead_letter_ids(&mut conn, Some(id))
            .await
            .map_err(ConsoleError::from)?
            .len()
    };
    let page = Page::new(&session, "Replay dead letters", Section::Connections);
    let csrf = page.csrf();
    Ok(page.render(html! {
        @if dead == 0 {
            p { (connection.name) " has no dead-lettered event." }
        } @else {
            p { "Put the " (dead) " dead-lettered events of " (connection.name) " back in the queue, their attempts reset?" }
            (action_button(&format!("/connections/{id}/replay-dead-letters"), csrf, &format!("Replay {dead} events")))
        }
        p { a href={ "/connections/" (id) } { "Back to the connection" } }
    }))
}

/// `POST /connections/{id}/replay-dead-letters`.
pub async fn replay_dead_letters(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = parse_id(&id)?;
    views::connection_row(state.store(), id).await?;
    let requeued = admin::replay_dead_letters(state.store(), Actor::Console, Some(id)).await?;
    Ok(see_other(&format!(
        "/connections/{id}?done={}+dead-lettered+events+were+queued+again.",
        requeued.len()
    )))
}
