use crate::common::Env;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_is_everywhere_and_documents_the_exit_codes() {
    let env = Env::new().await;
    let help = env.run(&["--help"]).await;
    help.assert_code(0);
    for needle in [
        "Exit codes",
        "0  success",
        "1  operational",
        "2  usage",
        "3  refused",
    ] {
        assert!(help.stdout.contains(needle), "{needle}:\n{}", help.stdout);
    }
    for args in [
        vec!["migrate", "--help"],
        vec!["connection", "--help"],
        vec!["connection", "create", "--help"],
        vec!["connection", "register-webhook", "--help"],
        vec!["mapping", "set", "--help"],
        vec!["mapping", "preview", "--help"],
        vec!["events", "list", "--help"],
        vec!["events", "replay", "--help"],
        vec!["backfill", "--help"],
        vec!["check", "--help"],
        vec!["hash-password", "--help"],
        vec!["rotate-keys", "--help"],
    ] {
        let run = env.run_with(&args, &[("DATABASE_URL", None)], None).await;
        run.assert_code(0);
        assert!(run.stdout.contains("Usage"), "{args:?}");
    }
    env.run(&["frobnicate"]).await.assert_code(2);
    env.run(&["connection", "create", "--name", "x"])
        .await
        .assert_code(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hash_password_reads_stdin_and_needs_no_configuration() {
    let env = Env::new().await;
    let run = env
        .run_with(
            &["hash-password", "--cost", "4"],
            &[("DATABASE_URL", None), ("DATA_ENCRYPTION_KEY", None)],
            Some("hunter2\n"),
        )
        .await;
    run.assert_code(0);
    let hash = run.stdout.trim();
    assert!(bcrypt::verify("hunter2", hash).unwrap());
    assert!(!run.all().contains("hunter2"));
    env.run_with(&["hash-password"], &[], Some("\n"))
        .await
        .assert_code(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configuration_exits_2() {
    let env = Env::new().await;
    let run = env
        .run_with(
            &["connection", "list"],
            &[("DATA_ENCRYPTION_KEY", Some("short"))],
            None,
        )
        .await;
    run.assert_code(2);
    assert!(run.stderr.contains("DATA_ENCRYPTION_KEY"));
}
