//! `suiteflow rotate-keys`: re-encrypts every connection secret that was sealed with another
//! key (normally DATA_ENCRYPTION_KEY_PREVIOUS) with the current DATA_ENCRYPTION_KEY.

use serde_json::json;
use suiteflow_crypto::Encrypted;
use suiteflow_store::{Connection, ConnectionChanges, Sealed, SecretColumn};

use crate::CommandContext;
use crate::error::{CliResult, ResultExt as _, failure};
use crate::output::print_json;
use suiteflow_sync::admin::{self, Actor};

#[derive(Debug, Default)]
struct Counts {
    connections: usize,
    rotated_connections: usize,
    rotated_secrets: usize,
    current_secrets: usize,
    failed: Vec<String>,
}

/// The secrets of a connection that need resealing, resealed; `None` for those already current.
fn reseal(ctx: &CommandContext, connection: &Connection) -> Result<[Option<Sealed>; 3], String> {
    let columns = [
        (
            SecretColumn::SmartSuiteApiKey,
            connection.smartsuite_api_key.sealed(),
        ),
        (
            SecretColumn::WebflowToken,
            connection.webflow_token.sealed(),
        ),
        (
            SecretColumn::WebhookSecret,
            connection.webhook_secret.sealed(),
        ),
    ];
    let keys = &ctx.settings.keys;
    let mut out: [Option<Sealed>; 3] = [None, None, None];
    for (slot, (column, sealed)) in out.iter_mut().zip(columns) {
        let encrypted = Encrypted::new(sealed.ciphertext, sealed.iv);
        if !keys.needs_rotation(&encrypted) {
            continue;
        }
        let resealed = keys
            .reseal(&encrypted, &column.aad(connection.id))
            .map_err(|e| format!("{}: {e}", column.name()))?;
        *slot = Some(Sealed {
            ciphertext: resealed.ciphertext_b64,
            iv: resealed.iv_b64,
        });
    }
    Ok(out)
}

pub async fn run(ctx: &CommandContext, dry_run: bool) -> CliResult {
    let mut db = ctx.db().await?;
    let connections = suiteflow_store::list_connections(&mut db)
        .await
        .or_fail("loading connections")?;
    let current = ctx.settings.keys.current_key_id().to_string();
    let mut counts = Counts {
        connections: connections.len(),
        ..Counts::default()
    };
    for connection in &connections {
        let [api_key, token, secret] = match reseal(ctx, connection) {
            Ok(resealed) => resealed,
            Err(e) => {
                eprintln!("error: connection {}: cannot decrypt {e}", connection.id);
                counts.failed.push(connection.id.to_string());
                continue;
            }
        };
        let rotated = [&api_key, &token, &secret]
            .iter()
            .filter(|s| s.is_some())
            .count();
        counts.rotated_secrets += rotated;
        counts.current_secrets += 3 - rotated;
        if rotated == 0 && connection.encryption_key_id == current {
            continue;
        }
        counts.rotated_connections += 1;
        if dry_run {
            continue;
        }
        let mut changes = ConnectionChanges {
            encryption_key_id: Some(current.clone()),
            ..ConnectionChanges::default()
        };
        if let Some(sealed) = api_key {
            changes = changes.smartsuite_api_key(sealed);
        }
        if let Some(sealed) = token {
            changes = changes.webflow_token(sealed);
        }
        if let Some(sealed) = secret {
            changes = changes.webhook_secret(sealed);
        }
        suiteflow_store::update_connection(&mut db, connection.id, &changes)
            .await
            .or_fail(format!("storing connection {}", connection.id))?;
    }
    if !dry_run {
        let details = json!({
            "keyId": current,
            "rotatedConnections": counts.rotated_connections,
            "rotatedSecrets": counts.rotated_secrets,
            "failedConnections": counts.failed.len(),
        });
        admin::record(&ctx.store, Actor::Cli, "keys.rotated", None, &details).await;
    }
    if ctx.json {
        print_json(&json!({
            "dryRun": dry_run,
            "currentKeyId": current,
            "connections": counts.connections,
            "rotatedConnections": counts.rotated_connections,
            "rotatedSecrets": counts.rotated_secrets,
            "alreadyCurrentSecrets": counts.current_secrets,
            "failedConnections": counts.failed,
        }));
    } else {
        println!(
            "{}{} of {} connections, {} secrets re-encrypted with key {current} ({} already current){}",
            if dry_run {
                "dry run: would re-encrypt "
            } else {
                ""
            },
            counts.rotated_connections,
            counts.connections,
            counts.rotated_secrets,
            counts.current_secrets,
            if counts.failed.is_empty() {
                String::new()
            } else {
                format!(", {} failed", counts.failed.len())
            },
        );
    }
    if counts.failed.is_empty() {
        Ok(())
    } else {
        Err(failure(format!(
            "{} connection(s) could not be decrypted with DATA_ENCRYPTION_KEY or DATA_ENCRYPTION_KEY_PREVIOUS: {}",
            counts.failed.len(),
            counts.failed.join(", ")
        )))
    }
}
