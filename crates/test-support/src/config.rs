//! Checks that a binary refuses bad configuration: exit status 2, one line naming each bad
//! variable, and no secret value printed.

use std::process::Command;

/// Runs `binary` (with `args`) in an empty directory and an environment holding only `env`,
/// and asserts that it exits with status 2, printing one line naming each of `variables`, and
/// never printing any of `secret_values`.
pub fn assert_refuses_configuration(
    binary: &str,
    args: &[&str],
    env: &[(&str, &str)],
    variables: &[&str],
    secret_values: &[&str],
) {
    let dir = std::env::temp_dir();
    let output = Command::new(binary)
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {binary}: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{binary} should exit 2; stderr:\n{stderr}"
    );
    for variable in variables {
        let lines = stderr
            .lines()
            .filter(|l| l.contains(&format!("{variable}:")))
            .count();
        assert_eq!(
            lines, 1,
            "expected one line naming {variable}; stderr:\n{stderr}"
        );
    }
    for secret in secret_values {
        assert!(
            !stderr.contains(secret) && !stdout.contains(secret),
            "{binary} printed a value"
        );
    }
}

/// The refusals every binary shares: a short encryption key is named alone; several bad
/// variables are all named in one run; the password in a bad `DATABASE_URL` is never printed.
pub fn assert_refuses_the_common_bad_settings(binary: &str, args: &[&str]) {
    assert_refuses_configuration(
        binary,
        args,
        &[
            ("DATA_ENCRYPTION_KEY", "abc"),
            ("DATABASE_URL", "postgres://localhost/x"),
        ],
        &["DATA_ENCRYPTION_KEY"],
        &["abc"],
    );
    assert_refuses_configuration(
        binary,
        args,
        &[
            ("DATA_ENCRYPTION_KEY", "zz"),
            ("DATABASE_URL", "mysql://root:hunter2@db/x"),
            ("LOG_LEVEL", "info,[[["),
        ],
        &["DATA_ENCRYPTION_KEY", "DATABASE_URL", "LOG_LEVEL"],
        &["hunter2"],
    );
}
