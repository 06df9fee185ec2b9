use serde_json::json;

use crate::common::{Env, id_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_mapping_is_stored_versioned_and_shown() {
    let env = Env::new().await;
    let id = id_of(&env.create_connection("shop", "hmac").await);
    let file = env.good_mapping();
    let stored = env
        .run(&["mapping", "set", &id, "--file", &file, "--json"])
        .await
        .ok();
    assert_eq!(stored["stored"], true);
    assert_eq!(stored["version"], 1);
    assert_eq!(stored["checked"], "live");
    let again = env
        .run(&["mapping", "set", "shop", "--file", &file, "--json"])
        .await
        .ok();
    assert_eq!(again["version"], 2);

    let shown = env.run(&["mapping", "show", &id, "--json"]).await.ok();
    assert_eq!(shown["version"], 2);
    assert_eq!(shown["mapping"]["fieldMap"]["name"]["source"], "title");
    assert_eq!(shown["mapping"]["slugTemplate"], "{{title}}");
    assert_eq!(shown["mapping"]["deleteBehavior"], "archive");
    // Plain `mapping show` prints the document itself, so it can be edited and set again.
    let plain = env.run(&["mapping", "show", &id]).await;
    plain.assert_code(0);
    let doc = plain.json();
    assert_eq!(doc["fieldMap"]["price"]["transform"], "round");
    let path = env.write("roundtrip.json", &plain.stdout);
    env.run(&["mapping", "set", &id, "--file", &path])
        .await
        .assert_code(0);

    // YAML works too.
    let yaml = env.write(
        "mapping.yaml",
        "fieldMap:\n  name: {type: direct, source: title}\nslugTemplate: '{{title}}'\ndeleteBehavior: delete\n",
    );
    env.run(&["mapping", "set", &id, "--file", &yaml])
        .await
        .assert_code(0);
    let shown = env.run(&["mapping", "show", &id, "--json"]).await.ok();
    assert_eq!(shown["mapping"]["deleteBehavior"], "delete");
    // Each version set is on record.
    let mut conn = env.store().await;
    let entry = suiteflow_store::latest_audit(&mut conn, "mapping.set")
        .await
        .unwrap()
        .expect("the mapping is in the audit log");
    assert_eq!(entry.actor, "cli");
    assert_eq!(entry.details["version"], shown["version"]);
    assert_eq!(entry.details["checked"], "live");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_mapping_is_refused_with_every_problem_and_nothing_stored() {
    let env = Env::new().await;
    let id = id_of(&env.create_connection("shop", "hmac").await);
    let file = env.write(
        "bad.json",
        r#"{"fieldMap": {"name": {"type": "direct", "source": "title"},
                         "colour": {"type": "direct", "source": "title"},
                         "price": {"type": "direct", "source": "no_such_field"},
                         "slug": {"type": "direct", "source": "title", "transform": "shout"}},
            "deleteBehavior": "explode"}"#,
    );
    let run = env
        .run(&["mapping", "set", &id, "--file", &file, "--json"])
        .await;
    run.assert_code(3);
    for needle in [
        "colour",
        "no_such_field",
        "shout",
        "explode",
        "nothing was stored",
    ] {
        assert!(
            run.stderr.contains(needle),
            "{needle} not in:\n{}",
            run.stderr
        );
    }
    let out = run.json();
    assert_eq!(out["stored"], false);
    assert!(out["problems"].as_array().unwrap().len() >= 4, "{out}");
    assert!(out["problems"][0]["message"].is_string());
    let show = env.run(&["mapping", "show", &id]).await;
    show.assert_code(3);
    assert!(show.stderr.contains("no mapping"));

    let garbage = env.write("garbage.json", "{not json");
    let run = env.run(&["mapping", "set", &id, "--file", &garbage]).await;
    run.assert_code(3);
    assert!(run.stderr.contains("JSON"), "{}", run.stderr);
    env.run(&["mapping", "set", &id, "--file", "/no/such/file.json"])
        .await
        .assert_code(3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_working_credentials_set_fails_unless_offline() {
    let env = Env::new().await;
    let id = id_of(
        &env.create_connection_with("shop", "hmac", &[("WEBFLOW_TOKEN", Some("wrong-token"))])
            .await
            .ok(),
    );
    let file = env.good_mapping();
    let run = env.run(&["mapping", "set", &id, "--file", &file]).await;
    run.assert_code(1);
    assert!(
        run.stderr.contains("--offline") && run.stderr.contains("401"),
        "{}",
        run.stderr
    );
    assert!(!run.all().contains("wrong-token"));
    env.run(&["mapping", "show", &id]).await.assert_code(3);

    let stored = env
        .run(&[
            "mapping",
            "set",
            &id,
            "--file",
            &file,
            "--offline",
            "--json",
        ])
        .await
        .ok();
    assert_eq!(stored["checked"], "offline");
    // Offline still catches what needs no schema.
    let bad = env.write("bad.json", r#"{"fieldMap": {"name": {"type": "guess"}}}"#);
    env.run(&["mapping", "set", &id, "--file", &bad, "--offline"])
        .await
        .assert_code(3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_prints_field_data_and_warnings_and_writes_nothing() {
    let env = Env::new().await;
    let id = id_of(&env.create_connection("shop", "hmac").await);
    env.run(&["mapping", "set", &id, "--file", &env.good_mapping()])
        .await
        .assert_code(0);
    let record = env.smartsuite.insert_record(
        &env.table,
        json!({"title": "Blue Mug", "price": "12.345", "status": {"value": "backlog"}}),
    );
    let preview = env
        .run(&["mapping", "preview", &id, "--record", &record, "--json"])
        .await
        .ok();
    assert_eq!(preview["ok"], true);
    assert_eq!(preview["fieldData"]["name"], "Blue Mug");
    assert_eq!(preview["fieldData"]["price"], json!(12.3));
    assert_eq!(preview["slug"], "blue-mug");
    assert_eq!(preview["isDraft"], true);
    assert!(preview["warnings"].as_array().unwrap().is_empty());

    let text = env
        .run(&["mapping", "preview", &id, "--record", &record])
        .await;
    text.assert_code(0);
    assert!(text.stdout.contains("fieldData") && text.stdout.contains("Blue Mug"));

    // A previewed document need not be stored.
    let other = env.write(
        "other.json",
        r#"{"fieldMap": {"name": {"type": "template", "template": "{{title | uppercase}}"}}, "slugTemplate": "{{title}}"}"#,
    );
    let preview = env
        .run(&[
            "mapping", "preview", &id, "--record", &record, "--file", &other, "--json",
        ])
        .await
        .ok();
    assert_eq!(preview["fieldData"]["name"], "BLUE MUG");

    assert!(env.webflow.items(&env.collection).is_empty());
    assert_eq!(env.run(&["events", "list", "--json"]).await.ok(), json!([]));
    let unknown = env
        .run(&[
            "mapping",
            "preview",
            &id,
            "--record",
            "64b000000000000000000000",
        ])
        .await;
    unknown.assert_code(3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slugs_are_transliterated_for_a_new_mapping_and_a_new_version_keeps_the_setting() {
    let env = Env::new().await;
    let id = id_of(&env.create_connection("shop", "hmac").await);
    let record = env.smartsuite.insert_record(
        &env.table,
        json!({"title": "Ёлка", "price": "3", "status": {"value": "backlog"}}),
    );
    let preview = |file: Option<String>| {
        let (env, id, record) = (&env, id.clone(), record.clone());
        async move {
            let mut args = vec!["mapping", "preview", &id, "--record", &record, "--json"];
            if let Some(file) = &file {
                args.extend(["--file", file.as_str()]);
            }
            env.run(&args).await.ok()
        }
    };

    // A document without the key, previewed before it is stored, maps as a first mapping.
    let bare = env.good_mapping();
    let first = preview(Some(bare.clone())).await;
    assert_eq!(
        (&first["slug"], &first["transliterateSlugs"]),
        (&json!("iolka"), &json!(true))
    );

    // Stored as the connection's first mapping, it is on, and says so.
    let stored = env
        .run(&["mapping", "set", &id, "--file", &bare, "--json"])
        .await
        .ok();
    assert_eq!(stored["transliterateSlugs"], true);
    let shown = env.run(&["mapping", "show", &id, "--json"]).await.ok();
    assert_eq!(shown["mapping"]["transliterateSlugs"], true);
    assert_eq!(preview(None).await["slug"], "iolka");

    // A version that says off is off; the next version without the key keeps it off.
    let off = env.write(
        "off.json",
        r#"{"fieldMap": {"name": {"type": "direct", "source": "title"}},
            "slugTemplate": "{{title}}", "transliterateSlugs": false}"#,
    );
    let stored = env
        .run(&["mapping", "set", &id, "--file", &off, "--json"])
        .await
        .ok();
    assert_eq!(stored["transliterateSlugs"], false);
    let stored = env
        .run(&["mapping", "set", &id, "--file", &bare, "--json"])
        .await
        .ok();
    assert_eq!(
        (&stored["version"], &stored["transliterateSlugs"]),
        (&json!(3), &json!(false))
    );
    let kept = preview(None).await;
    assert_eq!(kept["slug"], json!(record.to_lowercase()));
    assert_eq!(kept["transliterateSlugs"], false);
    assert_eq!(kept["warnings"][0]["kind"], "slug_not_transliterated");
    // A document previewed from a file is read as that next version would be.
    assert_eq!(
        preview(Some(bare.clone())).await["transliterateSlugs"],
        false
    );

    // The text output says which.
    let text = env.run(&["mapping", "set", &id, "--file", &bare]).await;
    text.assert_code(0);
    assert!(
        text.stdout.contains("keep Latin letters and digits only"),
        "{}",
        text.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapping_stored_before_the_option_keeps_its_slugs_until_a_version_turns_it_on() {
    let env = Env::new().await;
    let id = id_of(&env.create_connection("shop", "hmac").await);
    let record = env.smartsuite.insert_record(
        &env.table,
        json!({"title": "Αθήνα", "price": "3", "status": {"value": "live"}}),
    );
    // A mapping stored before the option existed: the migration left it off.
    let doc = suiteflow_mapper::MappingDocument::from_json(
        &std::fs::read_to_string(env.good_mapping()).unwrap(),
    )
    .unwrap();
    let mut row = suiteflow_sync::mapping::new_mapping(&doc, None).unwrap();
    row.transliterate_slugs = false;
    let mut db = env.store().await;
    suiteflow_store::set_mapping(&mut db, id.parse().unwrap(), &row)
        .await
        .unwrap();

    let args = ["mapping", "preview", &id, "--record", &record, "--json"];
    let preview = || env.run(&args);
    assert_eq!(preview().await.ok()["slug"], json!(record.to_lowercase()));
    // Edited without the key: still off, the items keep their slugs.
    env.run(&["mapping", "set", &id, "--file", &env.good_mapping()])
        .await
        .assert_code(0);
    assert_eq!(preview().await.ok()["slug"], json!(record.to_lowercase()));
    // Turned on by the document.
    let on = env.write(
        "on.json",
        r#"{"fieldMap": {"name": {"type": "direct", "source": "title"}},
            "slugTemplate": "{{title}}", "transliterateSlugs": true}"#,
    );
    env.run(&["mapping", "set", &id, "--file", &on])
        .await
        .assert_code(0);
    assert_eq!(preview().await.ok()["slug"], "athena");
}
