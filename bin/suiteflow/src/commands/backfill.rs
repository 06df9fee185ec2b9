//! `suiteflow backfill <connection> [--dry-run] [--prune]`: every SmartSuite record of the
//! table, matched against what the Webflow collection already holds (the sync engine's
//! backfill plan), then carried out: matched items are adopted in the id map, and only the
//! records whose item needs content are queued for the worker. `--dry-run` prints the plan and
//! writes nothing anywhere. A connection without a mapping cannot be planned: its records are
//! all queued, to wait for the mapping.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};
use suiteflow_store::ConnectionStatus;
use suiteflow_sync::admin::Actor;
use suiteflow_sync::backfill::{self, Plan, Step};

use crate::error::{CliResult, ResultExt as _, failure, refused};
use crate::output::print_json;
use crate::{BackfillArgs, CommandContext};

pub async fn run(ctx: &CommandContext, args: BackfillArgs) -> CliResult {
    let connection = ctx.connection(&args.connection).await?;
    if connection.status == ConnectionStatus::Archived {
        return Err(refused(format!("connection {} is archived", connection.id)));
    }
    let mapping = {
        let mut db = ctx.db().await?;
        suiteflow_store::get_mapping(&mut db, connection.id)
            .await
            .or_fail("loading the mapping")?
    };
    let Some(mapping) = mapping else {
        if args.dry_run || args.prune {
            return Err(refused(format!(
                "connection {} has no mapping: a backfill plan needs one (`suiteflow mapping set`)",
                connection.id
            )));
        }
        return queue_everything(ctx, &args, &connection).await;
    };

    let bar = progress_bar("reading");
    let plan = backfill::plan(
        &ctx.store,
        &ctx.connector,
        &connection,
        &mapping,
        args.page_size,
        &mut |read, total| {
            bar.set_length(total);
            bar.set_position(read);
        },
    )
    .await
    .map_err(|e| {
        failure(format!(
            "planning the backfill of connection {}: {e}",
            connection.id
        ))
    })?;
    bar.finish_and_clear();

    let applied = if args.dry_run {
        None
    } else {
        Some(
            backfill::apply(
                &ctx.store,
                &ctx.connector,
                Actor::Cli,
                &connection,
                &plan,
                args.prune,
                args.batch_size as usize,
            )
            .await
            .map_err(|e| failure(format!("carrying out the backfill: {e}")))?,
        )
    };
    report(ctx, &args, &connection, &plan, applied.as_ref());
    Ok(())
}

fn report(
    ctx: &CommandContext,
    args: &BackfillArgs,
    connection: &suiteflow_store::Connection,
    plan: &Plan,
    applied: Option<&backfill::Applied>,
) {
    let counts = plan.counts();
    if ctx.json {
        let orphans: Vec<Value> = plan
            .orphans
            .iter()
            .map(|i| json!({"id": i.id, "slug": i.slug()}))
            .collect();
        let adoptions: Vec<Value> = plan
            .records
            .iter()
            .filter_map(|p| match &p.step {
                Step::Adopt {
                    item_id,
                    update,
                    slug,
                    new_slug,
                } => Some(json!({
                    "recordId": p.record_id,
                    "itemId": item_id,
                    "update": update,
                    "slug": slug,
                    "newSlug": new_slug,
                })),
                _ => None,
            })
            .collect();
        let unmappable: Vec<Value> = plan
            .unmappable
            .iter()
            .map(|(id, why)| json!({"recordId": id, "error": why}))
            .collect();
        print_json(&json!({
            "connectionId": connection.id,
            "dryRun": args.dry_run,
            "records": plan.records.len(),
            "create": counts.create,
            "adopt": counts.adopt,
            "update": counts.update,
            "unchanged": counts.unchanged,
            "orphans": counts.orphans,
            "slugChanges": counts.slug_changes,
            "unresolvedFiles": plan
                .unresolved_files
                .iter()
                .map(|(record, handle)| json!({"recordId": record, "handle": handle}))
                .collect::<Vec<_>>(),
            "createIds": plan.ids("create"),
            "updateIds": plan.ids("update"),
            "adoptions": adoptions,
            "orphanItems": orphans,
            "unmappable": unmappable,
            "skippedWithoutId": plan.without_id,
            "pruned": args.prune,
            "applied": applied,
        }));
        return;
    }
    let verb = if args.dry_run { "would" } else { "will" };
    println!(
        "backfill of connection {} ({} records){}:",
        connection.id,
        plan.records.len(),
        if args.dry_run {
            ", dry run: nothing written"
        } else {
            ""
        }
    );
    println!(
        "  create     {:>6}  records with no item yet",
        counts.create
    );
    println!(
        "  adopt      {:>6}  items already in the collection that {verb} become their record's",
        counts.adopt
    );
    println!(
        "  update     {:>6}  items whose content {verb} be rewritten",
        counts.update
    );
    println!(
        "  unchanged  {:>6}  items that already hold their record's content",
        counts.unchanged
    );
    if counts.slug_changes > 0 {
        println!(
            "  note: {} adopted items {verb} get their record's slug, so their URL changes \
             (a slugTemplate that gives the items' present slugs keeps the URLs)",
            counts.slug_changes
        );
    }
    println!(
        "  orphans    {:>6}  items no record holds{}",
        counts.orphans,
        if counts.orphans == 0 {
            String::new()
        } else if args.prune {
            format!(" ({} them, as --prune asks)", verb_of(plan))
        } else {
            " (left alone; --prune applies the mapping's deleteBehavior to them)".to_string()
        }
    );
    for (id, why) in &plan.unmappable {
        println!("  cannot map record {id}: {why}");
    }
    if plan.without_id > 0 {
        println!("  {} records had no id and were skipped", plan.without_id);
    }
    if !plan.unresolved_files.is_empty() {
        println!(
            "  {} files had no public URL from SmartSuite: their records are written without them",
            plan.unresolved_files.len()
        );
    }
    if let Some(applied) = applied {
        if applied.adoptions_skipped > 0 {
            println!(
                "  {} adoptions skipped: the record or the item was written since the plan; \
                 their records are queued for the worker to settle",
                applied.adoptions_skipped
            );
        }
        println!(
            "done: {} adopted, {} queued for the worker, {} already queued{}",
            applied.adopted,
            applied.enqueued,
            applied.already_queued,
            if args.prune {
                format!(", {} orphans pruned", applied.pruned)
            } else {
                String::new()
            }
        );
        if connection.status != ConnectionStatus::Active {
            println!(
                "note: the connection is {}; its events wait until it is resumed",
                connection.status
            );
        }
    }
}

fn verb_of(plan: &Plan) -> &'static str {
    match plan.delete_behavior {
        suiteflow_mapper::DeleteBehavior::Archive => "archiving",
        suiteflow_mapper::DeleteBehavior::Unpublish => "unpublishing",
        suiteflow_mapper::DeleteBehavior::Delete => "deleting",
    }
}

fn progress_bar(what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} backfill: {what} [{{bar:40}}] {{pos}}/{{len}} records ({{per_sec}}) {{msg}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// Without a mapping: every record is queued (and waits for the mapping); the worker matches
/// existing items when it writes them.
async fn queue_everything(
    ctx: &CommandContext,
    args: &BackfillArgs,
    connection: &suiteflow_store::Connection,
) -> CliResult {
    let bar = progress_bar("queueing");
    let options = backfill::QueueAll {
        page_size: args.page_size,
        batch_size: args.batch_size as usize,
        actor: Some(Actor::Cli),
    };
    let queued = backfill::queue_all(&ctx.store, &ctx.connector, connection, &options, &mut |q| {
        bar.set_length(q.total);
        bar.set_position(q.read);
        bar.set_message(format!(
            "{} enqueued, {} unchanged",
            q.enqueued, q.already_queued
        ));
    })
    .await
    .map_err(|e| {
        failure(format!(
            "queueing the records of table {}: {e}",
            connection.smartsuite_table_id
        ))
    })?;
    let (records, enqueued, unchanged, skipped) = (
        queued.read - queued.without_id,
        queued.enqueued,
        queued.already_queued,
        queued.without_id,
    );
    bar.finish_and_clear();

    if ctx.json {
        print_json(&json!({
            "connectionId": connection.id,
            "records": records,
            "enqueued": enqueued,
            "unchanged": unchanged,
            "skippedWithoutId": skipped,
        }));
    } else {
        println!(
            "backfill of connection {}: {records} records, {enqueued} enqueued, {unchanged} unchanged (already enqueued)",
            connection.id
        );
        println!(
            "note: the connection has no mapping yet; its records wait for one (`suiteflow mapping set`)"
        );
        if skipped > 0 {
            println!("{skipped} records had no id and were skipped");
        }
        if connection.status != ConnectionStatus::Active {
            println!(
                "note: the connection is {}; its events wait until it is resumed",
                connection.status
            );
        }
    }
    Ok(())
}
