use suiteflow_crypto::{Encrypted, EncryptionKey, Keyring};
use suiteflow_store::SecretColumn;

use crate::common::{Env, KEY, OTHER_KEY, id_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_keys_reseals_every_secret_with_the_current_key() {
    let env = Env::new().await;
    let a = id_of(&env.create_connection("a", "hmac").await);
    let b = id_of(&env.create_connection("b", "standard").await);

    // The new key alone cannot open the old secrets.
    let without_previous = [("DATA_ENCRYPTION_KEY", Some(OTHER_KEY))];
    let run = env
        .run_with(&["rotate-keys", "--json"], &without_previous, None)
        .await;
    run.assert_code(1);
    assert_eq!(run.json()["failedConnections"].as_array().unwrap().len(), 2);

    let rotating = [
        ("DATA_ENCRYPTION_KEY", Some(OTHER_KEY)),
        ("DATA_ENCRYPTION_KEY_PREVIOUS", Some(KEY)),
    ];
    let dry = env
        .run_with(&["rotate-keys", "--dry-run", "--json"], &rotating, None)
        .await
        .ok();
    assert_eq!(dry["rotatedConnections"], 2);
    // A dry run writes no audit entry: the latest is still the failed run's.
    let latest = suiteflow_store::latest_audit(&mut env.store().await, "keys.rotated")
        .await
        .unwrap()
        .expect("the failed rotation is in the audit log");
    assert_eq!(latest.details["failedConnections"], 2);
    let report = env
        .run_with(&["rotate-keys", "--json"], &rotating, None)
        .await
        .ok();
    assert_eq!(report["connections"], 2);
    assert_eq!(report["rotatedConnections"], 2);
    assert_eq!(report["rotatedSecrets"], 6);
    assert_eq!(report["failedConnections"], serde_json::json!([]));
    // On record with its counts.
    let rotated = |details: &serde_json::Value| details["rotatedSecrets"].clone();
    let entry = suiteflow_store::latest_audit(&mut env.store().await, "keys.rotated")
        .await
        .unwrap()
        .expect("the rotation is in the audit log");
    assert_eq!(rotated(&entry.details), serde_json::json!(6));
    let again = env
        .run_with(&["rotate-keys", "--json"], &rotating, None)
        .await
        .ok();
    assert_eq!(again["rotatedSecrets"], 0);
    assert_eq!(again["alreadyCurrentSecrets"], 6);

    let new_key = EncryptionKey::from_hex(OTHER_KEY).unwrap();
    let key_id = new_key.id().to_string();
    let keyring = Keyring::new(new_key, None);
    let mut conn = env.store().await;
    // The run that found nothing to do is on record too.
    let entry = suiteflow_store::latest_audit(&mut conn, "keys.rotated")
        .await
        .unwrap()
        .expect("the rotation is in the audit log");
    assert_eq!(entry.actor, "cli");
    assert_eq!(
        (&entry.details["keyId"], &entry.details["rotatedSecrets"]),
        (&serde_json::json!(key_id), &serde_json::json!(0))
    );
    for id in [&a, &b] {
        let c = suiteflow_store::get_connection(&mut conn, id.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.encryption_key_id, key_id);
        for (column, sealed) in [
            (
                SecretColumn::SmartSuiteApiKey,
                c.smartsuite_api_key.sealed(),
            ),
            (SecretColumn::WebflowToken, c.webflow_token.sealed()),
            (SecretColumn::WebhookSecret, c.webhook_secret.sealed()),
        ] {
            keyring
                .decrypt_secret(
                    &Encrypted::new(sealed.ciphertext, sealed.iv),
                    &column.aad(c.id),
                )
                .unwrap();
        }
    }
    // Without the previous key the connection still works.
    env.run(&["mapping", "set", &a, "--file", &env.good_mapping()])
        .await
        .assert_code(1); // old key: fails
    env.run_with(
        &["mapping", "set", &a, "--file", &env.good_mapping()],
        &without_previous,
        None,
    )
    .await
    .assert_code(0);
}
