//! Bad configuration stops the binary at start-up, naming each bad variable.

#[test]
fn bad_settings_exit_2_naming_each_variable_and_no_secret() {
    suiteflow_test_support::config::assert_refuses_the_common_bad_settings(
        env!("CARGO_BIN_EXE_ingress"),
        &[],
    );
}

#[test]
fn version_and_help_need_no_configuration() {
    for (arg, expected) in [
        ("--version", concat!("ingress ", env!("CARGO_PKG_VERSION"))),
        ("--help", "Usage: ingress"),
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_ingress"))
            .arg(arg)
            .env_clear()
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{arg}: {output:?}");
        assert!(stdout.contains(expected), "{arg}: {stdout}");
    }
}
