//! `suiteflow connection …`

use serde_json::{Value, json};
use suiteflow_crypto::generate_secret;
use suiteflow_store::AsyncConnection as _;
use suiteflow_store::{
    Connection, ConnectionChanges, ConnectionId, ConnectionStatus, NewConnection, SecretColumn,
    StoreError, WebhookScheme,
};
use suiteflow_webhook_security::{Scheme, generate_webhook_secret, url_token_hash};

use crate::context::{SMARTSUITE_API_KEY, WEBFLOW_TOKEN, secret_from_env};
use crate::error::{CliResult, ResultExt as _, failure, refused, usage};
use crate::output::{
    connection_json, print_json, print_table, push_url, scheme_label, timestamp, truncate,
};
use crate::{CommandContext, ConnectionCommand, CreateArgs, SchemeArg, SetArgs, Tuning};
use suiteflow_sync::admin::{self, Actor};

pub async fn run(ctx: &CommandContext, command: ConnectionCommand) -> CliResult {
    match command {
        ConnectionCommand::Create(args) => create(ctx, args).await,
        ConnectionCommand::List => list(ctx).await,
        ConnectionCommand::Show { connection } => show(ctx, &connection).await,
        ConnectionCommand::Pause { connection } => {
            set_status(ctx, &connection, ConnectionStatus::Paused).await
        }
        ConnectionCommand::Resume { connection } => {
            set_status(ctx, &connection, ConnectionStatus::Active).await
        }
        ConnectionCommand::Archive { connection } => archive(ctx, &connection).await,
        ConnectionCommand::RotateSecret { connection } => rotate_secret(ctx, &connection).await,
        ConnectionCommand::RegisterWebhook { connection } => {
            register_webhook(ctx, &connection).await
        }
        ConnectionCommand::Set(args) => set(ctx, args).await,
    }
}

fn required_text(flag: &str, value: &str) -> CliResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(refused(format!("--{flag} must not be empty")));
    }
    Ok(value.to_string())
}

async fn create(ctx: &CommandContext, args: CreateArgs) -> CliResult {
    // Both secrets come from the environment only; report every missing one at once.
    let api_key = secret_from_env(SMARTSUITE_API_KEY, "SmartSuite API key");
    let token = secret_from_env(WEBFLOW_TOKEN, "Webflow API token");
    let (api_key, token) = match (api_key, token) {
        (Ok(k), Ok(t)) => (k, t),
        (k, t) => {
            let lines: Vec<String> = [k.err(), t.err()]
                .into_iter()
                .flatten()
                .map(|e| e.to_string())
                .collect();
            return Err(usage(lines.join("\nerror: ")));
        }
    };
    let name = required_text("name", &args.name)?;
    let account = required_text("smartsuite-account", &args.smartsuite_account)?;
    let table = required_text("smartsuite-table", &args.smartsuite_table)?;
    let site = required_text("webflow-site", &args.webflow_site)?;
    let collection = required_text("webflow-collection", &args.webflow_collection)?;
    let solution = args
        .smartsuite_solution
        .as_deref()
        .map(|s| required_text("smartsuite-solution", s))
        .transpose()?;

    let (stored_scheme, signing) = match args.scheme {
        SchemeArg::Hmac | SchemeArg::Smartsuite => (WebhookScheme::Hmac, Scheme::Hmac),
        SchemeArg::Standard => (WebhookScheme::Standard, Scheme::Standard),
    };
    let id = ConnectionId::new_random();
    let secret = generate_webhook_secret(signing);
    let url_token = (args.scheme == SchemeArg::Smartsuite).then(|| generate_secret(32));
    let retry = &ctx.settings.retry;
    let tuning = &args.tuning;
    let new = NewConnection {
        id,
        name,
        status: ConnectionStatus::Active,
        smartsuite_account_id: account,
        smartsuite_table_id: table,
        smartsuite_solution_id: solution,
        smartsuite_api_key: ctx.seal(id, SecretColumn::SmartSuiteApiKey, api_key.expose())?,
        webflow_site_id: site,
        webflow_collection_id: collection,
        webflow_token: ctx.seal(id, SecretColumn::WebflowToken, token.expose())?,
        webhook_scheme: stored_scheme,
        webhook_secret: ctx.seal(id, SecretColumn::WebhookSecret, secret.expose())?,
        encryption_key_id: ctx.settings.keys.current_key_id().to_string(),
        rate_limit_per_min: tuning
            .rate_limit
            .unwrap_or_else(|| i32::try_from(retry.write_cap_per_minute).unwrap_or(50)),
        max_retries: tuning
            .max_retries
            .unwrap_or_else(|| i32::try_from(retry.max_attempts).unwrap_or(5)),
        retry_backoff_ms: tuning
            .retry_backoff_ms
            .unwrap_or_else(|| i32::try_from(retry.backoff.as_millis()).unwrap_or(1000)),
        sync_delay_ms: tuning.sync_delay.unwrap_or(0),
    };
    let token_hash = url_token.as_ref().map(|t| url_token_hash(t.expose()));
    let mut db = ctx.db().await?;
    let created = db
        .transaction::<Connection, StoreError, _>(async |db| {
            let created = suiteflow_store::create_connection(db, &new).await?;
            let details = json!({
                "name": created.name,
                "scheme": created.webhook_scheme.as_str(),
                "smartsuiteTableId": created.smartsuite_table_id,
                "webflowCollectionId": created.webflow_collection_id,
            });
            suiteflow_store::audit(
                db,
                Actor::Cli.as_str(),
                "connection.created",
                Some(id),
                &details,
            )
            .await?;
            match token_hash {
                Some(hash) => {
                    let changes = ConnectionChanges {
                        smartsuite_webhook_token_hash: Some(Some(hash)),
                        ..ConnectionChanges::default()
                    };
                    Ok(suiteflow_store::update_connection(db, id, &changes)
                        .await?
                        .unwrap_or(created))
                }
                None => Ok(created),
            }
        })
        .await
        .or_fail("storing the connection")?;
    let notification = url_token
        .as_ref()
        .map(|t| suiteflow_sync::webhooks::notification_url(&ctx.settings.public_url, id, t));

    if args.scheme == SchemeArg::Hmac {
        eprintln!(
            "Recommended: `--scheme standard` for senders that can sign a timestamp; `hmac` signs \
             only the body, so a captured push can be sent again (it never rolls a record back, \
             but it is accepted)."
        );
    }
    if ctx.json {
        let mut value = connection_json(&ctx.settings, &created);
        if let Value::Object(map) = &mut value {
            map.insert("webhookSecret".into(), json!(secret.expose()));
            map.insert("smartsuiteNotificationUrl".into(), json!(notification));
        }
        print_json(&value);
        return Ok(());
    }
    println!(
        "Created connection {} ({:?}, scheme {}, status {}).",
        created.id,
        created.name,
        scheme_label(&created),
        created.status
    );
    println!();
    println!("Webhook URL:     {}", push_url(&ctx.settings, &created));
    println!("Webhook secret:  {}", secret.expose());
    println!(
        "  Shown only this once: give it to the sender now (`connection rotate-secret` replaces it)."
    );
    if let Some(url) = notification {
        println!();
        println!("SmartSuite notification URL: {url}");
        println!(
            "  Run `suiteflow connection register-webhook {}` to have SmartSuite call it \
             (that issues a fresh URL token).",
            created.id
        );
    }
    println!();
    println!(
        "Next: `suiteflow mapping set {} --file mapping.json`, then `suiteflow check {}`.",
        created.id, created.id
    );
    Ok(())
}

/// `connection set`: changes the settings given, leaves the others.
async fn set(ctx: &CommandContext, args: SetArgs) -> CliResult {
    let Tuning {
        rate_limit,
        max_retries,
        retry_backoff_ms,
        sync_delay,
    } = args.tuning;
    if rate_limit.is_none()
        && max_retries.is_none()
        && retry_backoff_ms.is_none()
        && sync_delay.is_none()
    {
        return Err(usage(
            "nothing to change: give --rate-limit, --max-retries, --retry-backoff-ms or --sync-delay",
        ));
    }
    let connection = ctx.connection(&args.connection).await?;
    if connection.status == ConnectionStatus::Archived {
        return Err(refused(format!("connection {} is archived", connection.id)));
    }
    let changes = ConnectionChanges {
        rate_limit_per_min: rate_limit,
        max_retries,
        retry_backoff_ms,
        sync_delay_ms: sync_delay,
        ..ConnectionChanges::default()
    };
    let mut db = ctx.db().await?;
    let updated = suiteflow_store::update_connection(&mut db, connection.id, &changes)
        .await
        .or_fail("updating the connection")?
        .ok_or_else(|| refused(format!("unknown connection {}", args.connection)))?;
    let details = json!({
        "rateLimitPerMin": rate_limit,
        "maxRetries": max_retries,
        "retryBackoffMs": retry_backoff_ms,
        "syncDelayMs": sync_delay,
    });
    admin::record(
        &ctx.store,
        Actor::Cli,
        "connection.updated",
        Some(connection.id),
        &details,
    )
    .await;
    if ctx.json {
        print_json(&connection_json(&ctx.settings, &updated));
    } else {
        println!(
            "connection {}: {} Webflow writes/min, {} attempts, retry backoff {} ms, sync delay {} ms",
            updated.id,
            updated.rate_limit_per_min,
            updated.max_retries,
            updated.retry_backoff_ms,
            updated.sync_delay_ms
        );
    }
    Ok(())
}

async fn list(ctx: &CommandContext) -> CliResult {
    let mut db = ctx.db().await?;
    let connections = suiteflow_store::list_connections(&mut db)
        .await
        .or_fail("loading connections")?;
    if ctx.json {
        let all: Vec<Value> = connections
            .iter()
            .map(|c| connection_json(&ctx.settings, c))
            .collect();
        print_json(&Value::Array(all));
        return Ok(());
    }
    if connections.is_empty() {
        println!("no connections (create one with `suiteflow connection create`)");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = connections
        .iter()
        .map(|c| {
            vec![
                c.id.to_string(),
                truncate(&c.name, 30),
                c.status.to_string(),
                scheme_label(c).to_string(),
                c.smartsuite_table_id.clone(),
                c.webflow_collection_id.clone(),
                c.last_error_message
                    .as_deref()
                    .map(|m| truncate(m, 40))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    print_table(
        &[
            "ID",
            "NAME",
            "STATUS",
            "SCHEME",
            "SMARTSUITE TABLE",
            "WEBFLOW COLLECTION",
            "LAST ERROR",
        ],
        &rows,
    );
    Ok(())
}

async fn show(ctx: &CommandContext, reference: &str) -> CliResult {
    let connection = ctx.connection(reference).await?;
    let mut db = ctx.db().await?;
    let mapping = suiteflow_store::get_mapping(&mut db, connection.id)
        .await
        .or_fail("loading the mapping")?;
    let counts = suiteflow_store::queue::count_by_status_of(&mut db, connection.id, None)
        .await
        .or_fail("counting events")?;
    let mut value = connection_json(&ctx.settings, &connection);
    let counts_json: serde_json::Map<String, Value> = counts
        .iter()
        .map(|(status, n)| (status.as_str().to_string(), json!(n)))
        .collect();
    if let Value::Object(map) = &mut value {
        map.insert(
            "mapping".into(),
            mapping
                .as_ref()
                .map(|m| json!({"version": m.version, "updatedAt": timestamp(m.updated_at)}))
                .unwrap_or(Value::Null),
        );
        map.insert("events".into(), Value::Object(counts_json));
    }
    if ctx.json {
        print_json(&value);
        return Ok(());
    }
    if let Value::Object(map) = &value {
        for (key, v) in map {
            let text = match v {
                Value::Null => "-".to_string(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            println!("{key:<28} {text}");
        }
    }
    Ok(())
}

async fn set_status(ctx: &CommandContext, reference: &str, status: ConnectionStatus) -> CliResult {
    let connection = ctx.connection(reference).await?;
    admin::set_status(&ctx.store, Actor::Cli, &connection, status)
        .await
        .map_err(admin_error)?;
    report_status(ctx, &connection, status);
    Ok(())
}

/// An operator's action that was refused (exit 3) or failed (exit 1).
pub(crate) fn admin_error(e: admin::AdminError) -> crate::CliError {
    match e {
        admin::AdminError::Refused(message) | admin::AdminError::NotFound(message) => {
            refused(message)
        }
        other => failure(other.to_string()),
    }
}

fn report_status(ctx: &CommandContext, connection: &Connection, status: ConnectionStatus) {
    if ctx.json {
        print_json(&json!({
            "id": connection.id,
            "previousStatus": connection.status.as_str(),
            "status": status.as_str(),
        }));
    } else {
        println!(
            "connection {} is {status} (was {})",
            connection.id, connection.status
        );
    }
}

async fn archive(ctx: &CommandContext, reference: &str) -> CliResult {
    let connection = ctx.connection(reference).await?;
    admin::archive(&ctx.store, Actor::Cli, &connection)
        .await
        .or_fail("updating the connection")?;
    // SmartSuite keeps notifying a webhook until it is deleted: remove it (best effort).
    if let Some(webhook_id) = connection.smartsuite_webhook_id.as_deref() {
        let deleted = match ctx.session(&connection) {
            Ok(session) => session
                .smartsuite
                .call(
                    "webhook",
                    session.clients.smartsuite.delete_webhook(webhook_id),
                )
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = deleted {
            eprintln!("warning: could not delete SmartSuite webhook {webhook_id}: {e}");
        }
    }
    report_status(ctx, &connection, ConnectionStatus::Archived);
    Ok(())
}

async fn rotate_secret(ctx: &CommandContext, reference: &str) -> CliResult {
    let connection = ctx.connection(reference).await?;
    let secret =
        admin::rotate_webhook_secret(&ctx.store, &ctx.settings.keys, Actor::Cli, &connection)
            .await
            .map_err(admin_error)?;
    if ctx.json {
        print_json(&json!({
            "id": connection.id,
            "webhookScheme": connection.webhook_scheme.as_str(),
            "webhookUrl": push_url(&ctx.settings, &connection),
            "webhookSecret": secret.expose(),
        }));
    } else {
        println!(
            "New webhook secret for connection {}: {}",
            connection.id,
            secret.expose()
        );
        println!(
            "  Shown only this once. The old secret no longer verifies: update the sender now."
        );
    }
    Ok(())
}

async fn register_webhook(ctx: &CommandContext, reference: &str) -> CliResult {
    let connection = ctx.connection(reference).await?;
    if connection.status == ConnectionStatus::Archived {
        return Err(refused(format!("connection {} is archived", connection.id)));
    }
    if let Some(host) = ctx.settings.public_url.0.host_str()
        && matches!(host, "localhost" | "127.0.0.1" | "::1" | "[::1]")
    {
        eprintln!(
            "warning: APP_URL points at {host}: SmartSuite cannot reach it from the internet"
        );
    }
    let registered = suiteflow_sync::webhooks::replace(
        &ctx.store,
        &ctx.connector,
        Actor::Cli,
        &connection,
        &ctx.settings.public_url,
    )
    .await
    .map_err(|e| failure(format!("registering the SmartSuite webhook: {e}")))?;
    if let Some(warning) = &registered.warning {
        eprintln!("warning: {warning}");
    }
    let (webhook_id, url, replaced) = (registered.webhook_id, registered.url, registered.replaced);
    if ctx.json {
        print_json(&json!({
            "id": connection.id,
            "smartsuiteWebhookId": webhook_id,
            "smartsuiteNotificationUrl": url,
            "replacedWebhookId": replaced,
        }));
    } else {
        println!(
            "Registered SmartSuite webhook {webhook_id} for connection {}.",
            connection.id
        );
        println!("Notification URL: {url}");
        println!("  The token in it is shown only this once; registering again issues a new one.");
        if let Some(old) = replaced {
            println!("Deleted the previous webhook {old}.");
        }
    }
    Ok(())
}
