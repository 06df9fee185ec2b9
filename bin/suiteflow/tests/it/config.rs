//! Bad configuration stops the binary at start-up, naming each bad variable.

#[test]
fn bad_settings_exit_2_naming_each_variable_and_no_secret() {
    suiteflow_test_support::config::assert_refuses_the_common_bad_settings(
        env!("CARGO_BIN_EXE_suiteflow"),
        &["migrate"],
    );
}
