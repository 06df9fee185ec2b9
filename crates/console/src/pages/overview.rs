//! The overview: the queue's depth and oldest wait, the last hour's outcomes per minute (a bar
//! chart drawn on the server as SVG), connections by status, the workers and their heartbeats.

use actix_session::Session;
use actix_web::web;
use maud::{Markup, html};

use crate::error::PageError;
use crate::html::{Page, Section, svg};
use crate::state::AppState;
use crate::views::{self, Minute, Overview, WorkerView};

pub async fn page(state: web::Data<AppState>, session: Session) -> Result<Markup, PageError> {
    let overview = state.overview(views::overview(state.store())).await?;
    let page = Page::new(&session, "Overview", Section::Overview).refresh_every(Some(15));
    Ok(page.render(content(&overview)))
}

fn content(o: &Overview) -> Markup {
    let total: i64 = o.per_minute.iter().map(Minute::total).sum();
    html! {
        section.cards aria-label="Queue" {
            div.card {
                h2 { "Waiting to be written" }
                p.figure { (o.queue_depth) }
                p.hint { "events a worker can claim now" }
            }
            div.card {
                h2 { "Oldest waiting event" }
                p.figure { (o.oldest_event_age_seconds.map_or("none".to_string(), age)) }
                p.hint { "retries included" }
            }
            div.card {
                h2 { "Worker last seen" }
                p.figure.small { (o.worker_last_run.clone().unwrap_or_else(|| "never".into())) }
            }
        }
        section aria-labelledby="last-hour" {
            h2 id="last-hour" { "The last hour: " (total) " events finished" }
            (chart(&o.per_minute))
            p.legend {
                span.key.success { "written" } " "
                span.key.partial { "written with warnings" } " "
                span.key.skipped { "skipped (nothing to write)" } " "
                span.key.dead_letter { "dead-lettered" }
            }
        }
        section aria-labelledby="connections" {
            h2 id="connections" { "Connections" }
            table {
                thead { tr { th scope="col" { "Status" } th scope="col" { "Connections" } } }
                tbody {
                    @for (status, n) in &o.connections {
                        tr { td { (crate::html::badge(status)) } td { (n) } }
                    }
                }
            }
            p { a href="/connections" { "All connections" } }
        }
        (workers(&o.workers))
    }
}

/// A worker unseen for this long has stopped or cannot reach the database.
const STALE_AFTER_SECONDS: u64 = 30;

/// The workers seen in the last day, by their heartbeats.
fn workers(workers: &[WorkerView]) -> Markup {
    html! {
        section aria-labelledby="workers" {
            h2 id="workers" { "Workers" }
            @if workers.is_empty() {
                p { "No worker has run in the last day." }
            } @else {
                table {
                    thead { tr {
                        th scope="col" { "Worker" } th scope="col" { "Host" }
                        th scope="col" { "Started" } th scope="col" { "Last seen" }
                        th scope="col" { "Batch in hand" }
                    } }
                    tbody {
                        @for w in workers {
                            tr {
                                td { code { (w.id) } }
                                td { (w.host) }
                                td { (w.started_at) }
                                td {
                                    (age(w.seen_seconds_ago)) " ago"
                                    @if w.seen_seconds_ago > STALE_AFTER_SECONDS { " " (crate::html::badge("stale")) }
                                }
                                td {
                                    @match &w.batch_started_at {
                                        Some(since) if w.current_batch > 0 => { (w.current_batch) " events since " (since) }
                                        _ => "idle",
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Seconds as people read them.
fn age(seconds: u64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h", s / 3600),
    }
}

/// Stacked bars, one per minute; a text alternative says what they show.
fn chart(minutes: &[Minute]) -> Markup {
    const WIDTH: usize = 600;
    const HEIGHT: i64 = 120;
    let max = minutes.iter().map(Minute::total).max().unwrap_or(0).max(1);
    let bar = WIDTH / minutes.len().max(1);
    let mut rects = String::new();
    for (i, m) in minutes.iter().enumerate() {
        let mut y = HEIGHT;
        for (class, n) in [
            ("success", m.success),
            ("partial", m.partial),
            ("skipped", m.skipped),
            ("dead_letter", m.dead_letter),
        ] {
            if n == 0 {
                continue;
            }
            let h = (n * HEIGHT / max).max(1);
            y -= h;
            rects.push_str(&format!(
                r#"<rect class="{class}" x="{}" y="{y}" width="{}" height="{h}"><title>{}: {n} {}</title></rect>"#,
                i * bar,
                bar.saturating_sub(1).max(1),
                &m.minute,
                class.replace('_', " ")
            ));
        }
    }
    let busiest = minutes.iter().max_by_key(|m| m.total());
    let summary = match busiest {
        Some(m) if m.total() > 0 => format!(
            "Events finished per minute over the last hour; the busiest minute ({}) had {}.",
            m.minute,
            m.total()
        ),
        _ => "No event finished in the last hour.".to_string(),
    };
    svg(format!(
        r#"<svg class="chart" role="img" aria-label="{summary}" viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="none">{rects}</svg>"#
    ))
}
