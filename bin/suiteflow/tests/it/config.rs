use suiteflow_test_support::config::assert_refuses_configuration;

const BIN: &str = env!("CARGO_BIN_EXE_suiteflow");

#[test]
fn a_short_encryption_key_exits_2_naming_it() {
    assert_refuses_configuration(
        BIN,
        &["migrate"],
        &[
            ("DATA_ENCRYPTION_KEY", "abc"),
            ("DATABASE_URL", "postgres://localhost/x"),
        ],
        &["DATA_ENCRYPTION_KEY"],
        &["abc"],
    );
}

#[test]
fn every_bad_variable_is_reported_at_once() {
    assert_refuses_configuration(
        BIN,
        &["migrate"],
        &[
            ("DATA_ENCRYPTION_KEY", "zz"),
            ("DATABASE_URL", "mysql://root:hunter2@db/x"),
            ("LOG_LEVEL", "info,[[["),
        ],
        &["DATA_ENCRYPTION_KEY", "DATABASE_URL", "LOG_LEVEL"],
        &["hunter2"],
    );
}
