//! A backfill from the console: the dry-run plan first (the sync engine's, read in the
//! background while the page shows its progress), then, when the operator starts it, the
//! plan carried out, and its outcome. A connection without a mapping queues every record
//! instead (they wait for the mapping). One run per connection is kept in memory: the console
//! runs as one replica.

use std::sync::{Arc, Mutex};

use actix_session::Session;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use suiteflow_store::{Connection, ConnectionId, Mapping};
use suiteflow_sync::admin::Actor;
use suiteflow_sync::backfill::{self, Applied, Counts, Plan, QueueAll, Queued};

use crate::auth::see_other;
use crate::error::{ConsoleError, PageError};
use crate::html::{Page, Section, action_button, csrf_field};
use crate::pages::connections::parse_id;
use crate::state::AppState;
use crate::views;

/// SmartSuite records read per call, and events queued per statement.
const PAGE_SIZE: u32 = 1000;
const BATCH_SIZE: usize = 200;

/// Where a backfill is.
pub enum Phase {
    Planning {
        read: u64,
        total: u64,
    },
    Planned(Arc<Plan>),
    Applying,
    Applied {
        applied: Applied,
        counts: Counts,
    },
    /// No mapping: every record is being queued.
    Queueing(Queued),
    Queued(Queued),
    Failed(String),
}

pub struct BackfillRun {
    phase: Mutex<Phase>,
}

impl BackfillRun {
    fn new(phase: Phase) -> Arc<Self> {
        Arc::new(Self {
            phase: Mutex::new(phase),
        })
    }

    fn set(&self, phase: Phase) {
        *self
            .phase
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = phase;
    }

    fn with<T>(&self, f: impl FnOnce(&Phase) -> T) -> T {
        f(&self
            .phase
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// The plan, if the run holds one, and the run marked as carrying it out: in one step, so
    /// two starts of one plan cannot both carry it out.
    fn take_plan(&self) -> Option<Arc<Plan>> {
        let mut phase = self
            .phase
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Phase::Planned(plan) = &*phase else {
            return None;
        };
        let plan = Arc::clone(plan);
        *phase = Phase::Applying;
        Some(plan)
    }

    fn busy(&self) -> bool {
        self.with(|p| {
            matches!(
                p,
                Phase::Planning { .. } | Phase::Applying | Phase::Queueing(_)
            )
        })
    }
}

async fn load(
    state: &AppState,
    id: ConnectionId,
) -> Result<(Connection, Option<Mapping>), ConsoleError> {
    let connection = views::connection_row(state.store(), id).await?;
    let mut conn = state.store().get().await?;
    let mapping = suiteflow_store::get_mapping(&mut conn, id).await?;
    Ok((connection, mapping))
}

pub async fn page(
    state: web::Data<AppState>,
    session: Session,
    id: web::Path<String>,
) -> Result<Markup, PageError> {
    let id = parse_id(&id)?;
    let (connection, mapping) = load(&state, id).await?;
    let run = state.backfills().get(&id).cloned();
    let busy = run.as_ref().is_some_and(|r| r.busy());
    let title = format!("Backfill of {}", connection.name);
    let page = Page::new(&session, &title, Section::Connections).refresh_every(busy.then_some(2));
    let csrf = page.csrf();
    let base = format!("/connections/{id}/backfill");
    let body = match &run {
        Some(run) => run.with(|phase| phase_markup(phase, &base, csrf)),
        None => html! {},
    };
    Ok(page.render(html! {
        @if mapping.is_none() {
            p { "The connection has no mapping yet: a backfill queues every record of its SmartSuite table, to wait for one." }
        } @else {
            p { "A backfill reads every SmartSuite record and the Webflow collection, and plans: which items to create, which existing items to adopt, which to update, which are unchanged. The plan writes nothing; starting it does." }
        }
        (body)
        @if !busy {
            @if mapping.is_some() {
                (action_button(&format!("{base}/plan"), csrf, "Plan (dry run)"))
            } @else {
                (action_button(&format!("{base}/queue"), csrf, "Queue every record"))
            }
        }
        p { a href={ "/connections/" (id) } { "Back to the connection" } }
    }))
}

fn counts_table(counts: &Counts) -> Markup {
    html! {
        table {
            tbody {
                tr { th scope="row" { "Create" } td { (counts.create) } }
                tr { th scope="row" { "Adopt (items already there)" } td { (counts.adopt) } }
                tr { th scope="row" { "Update" } td { (counts.update) } }
                tr { th scope="row" { "Unchanged" } td { (counts.unchanged) } }
                tr { th scope="row" { "Orphans (items no record holds)" } td { (counts.orphans) } }
                tr { th scope="row" { "Adopted items whose URL changes" } td { (counts.slug_changes) } }
            }
        }
    }
}

fn phase_markup(phase: &Phase, base: &str, csrf: &str) -> Markup {
    match phase {
        Phase::Planning { read, total } => html! {
            p role="status" { "Planning: " (read) " of " (total) " SmartSuite records read…" }
            progress max=(total.max(&1)) value=(read) aria-label="Records read" {}
        },
        Phase::Planned(plan) => html! {
            h2 { "The plan" }
            (counts_table(&plan.counts()))
            @if !plan.unmappable.is_empty() {
                p.problem { (plan.unmappable.len()) " records cannot be mapped (a required field without a value)." }
            }
            form method="post" action={ (base) "/start" } {
                (csrf_field(csrf))
                input type="checkbox" id="prune" name="prune" value="on";
                label for="prune" { "Also apply the mapping's deleteBehavior to the orphans" }
                button type="submit" { "Start the backfill" }
            }
        },
        Phase::Applying => html! { p role="status" { "Carrying out the plan…" } },
        Phase::Applied { applied, counts } => html! {
            h2 { "Done" }
            (counts_table(counts))
            p role="status" {
                (applied.adopted) " items adopted, " (applied.enqueued) " events queued for the worker, "
                (applied.already_queued) " already queued, " (applied.pruned) " orphans pruned."
            }
        },
        Phase::Queueing(q) => html! {
            p role="status" { "Queueing: " (q.read) " of " (q.total) " records read, " (q.enqueued) " queued…" }
        },
        Phase::Queued(q) => html! {
            p role="status" { "Done: " (q.enqueued) " records queued, " (q.already_queued) " were already queued." }
        },
        Phase::Failed(message) => {
            html! { p.problem role="alert" { "The backfill failed: " (message) } }
        }
    }
}

/// `POST …/backfill/plan`: plans in the background.
pub async fn plan(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = parse_id(&id)?;
    let (connection, mapping) = load(&state, id).await?;
    let mapping =
        mapping.ok_or_else(|| ConsoleError::Refused("the connection has no mapping".into()))?;
    let Some(run) = start(&state, id, Phase::Planning { read: 0, total: 0 }) else {
        return Ok(see_other(&format!("/connections/{id}/backfill")));
    };
    let state = state.get_ref().clone();
    actix_web::rt::spawn(async move {
        let progress_run = Arc::clone(&run);
        let result = backfill::plan(
            state.store(),
            state.connector(),
            &connection,
            &mapping,
            PAGE_SIZE,
            &mut |read, total| progress_run.set(Phase::Planning { read, total }),
        )
        .await;
        run.set(match result {
            Ok(plan) => Phase::Planned(Arc::new(plan)),
            Err(e) => Phase::Failed(e.to_string()),
        });
    });
    Ok(see_other(&format!("/connections/{id}/backfill")))
}

#[derive(serde::Deserialize)]
pub struct StartForm {
    prune: Option<String>,
}

/// `POST …/backfill/start`: carries out the plan made last.
pub async fn start_planned(
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: web::Form<StartForm>,
) -> Result<HttpResponse, PageError> {
    let id = parse_id(&id)?;
    let (connection, _) = load(&state, id).await?;
    let run = state
        .backfills()
        .get(&id)
        .cloned()
        .ok_or_else(|| ConsoleError::Refused("plan the backfill first".into()))?;
    let plan = run
        .take_plan()
        .ok_or_else(|| ConsoleError::Refused("there is no plan to start: plan it again".into()))?;
    let prune = form.prune.is_some();
    let state = state.get_ref().clone();
    actix_web::rt::spawn(async move {
        let result = backfill::apply(
            state.store(),
            state.connector(),
            Actor::Console,
            &connection,
            &plan,
            prune,
            BATCH_SIZE,
        )
        .await;
        run.set(match result {
            Ok(applied) => Phase::Applied {
                applied,
                counts: plan.counts(),
            },
            Err(e) => Phase::Failed(e.to_string()),
        });
    });
    Ok(see_other(&format!("/connections/{id}/backfill")))
}

/// `POST …/backfill/queue`: a connection without a mapping queues every record.
pub async fn queue(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = parse_id(&id)?;
    let (connection, _) = load(&state, id).await?;
    let Some(run) = start(&state, id, Phase::Queueing(Queued::default())) else {
        return Ok(see_other(&format!("/connections/{id}/backfill")));
    };
    let state = state.get_ref().clone();
    actix_web::rt::spawn(async move {
        let progress_run = Arc::clone(&run);
        let options = QueueAll {
            page_size: PAGE_SIZE,
            batch_size: BATCH_SIZE,
            actor: Some(Actor::Console),
        };
        let result = backfill::queue_all(
            state.store(),
            state.connector(),
            &connection,
            &options,
            &mut |q| progress_run.set(Phase::Queueing(*q)),
        )
        .await;
        run.set(match result {
            Ok(queued) => Phase::Queued(queued),
            Err(e) => Phase::Failed(e.to_string()),
        });
    });
    Ok(see_other(&format!("/connections/{id}/backfill")))
}

/// A new run for `id`, unless one is busy.
fn start(state: &AppState, id: ConnectionId, phase: Phase) -> Option<Arc<BackfillRun>> {
    let mut runs = state.backfills();
    if runs.get(&id).is_some_and(|r| r.busy()) {
        return None;
    }
    let run = BackfillRun::new(phase);
    runs.insert(id, Arc::clone(&run));
    Some(run)
}
