//! Secrets are never taken from flags: a flag would leave them in shell history and in every
//! process listing. A flag that looks like one is refused before clap sees it, with a message
//! naming the variable to use instead (and never echoing the value).

/// The refusal message for the first argument that looks like a secret flag, if any.
pub fn refuse_secret_flags<I, S>(args: I) -> Option<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    for arg in args.into_iter().skip(1) {
        let arg = arg.as_ref().to_string_lossy().into_owned();
        if arg == "--" {
            return None;
        }
        let Some(flag) = arg.strip_prefix("--") else {
            continue;
        };
        let name = flag
            .split('=')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
            .replace('_', "-");
        if let Some(variable) = secret_variable(&name) {
            return Some(format!(
                "--{name}: secrets are not accepted as flags (they would stay in shell history and \
                 process listings); set {variable} in the environment instead"
            ));
        }
    }
    None
}

/// The variable that carries the secret a flag named `name` seems to pass.
fn secret_variable(name: &str) -> Option<&'static str> {
    let secretish = ["token", "api-key", "apikey", "secret", "password", "key"]
        .iter()
        .any(|word| name == *word || name.ends_with(&format!("-{word}")))
        || name.contains("token")
        || name.contains("api-key")
        || name.contains("apikey");
    if !secretish {
        return None;
    }
    Some(if name.contains("webflow") || name.contains("token") {
        "WEBFLOW_TOKEN"
    } else if name.contains("smartsuite") || name.contains("api-key") || name.contains("apikey") {
        "SMARTSUITE_API_KEY"
    } else if name.contains("encryption") {
        "DATA_ENCRYPTION_KEY"
    } else if name.contains("password") {
        "standard input (hash-password reads it there)"
    } else {
        "SMARTSUITE_API_KEY / WEBFLOW_TOKEN"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refuse(args: &[&str]) -> Option<String> {
        let mut all = vec!["suiteflow"];
        all.extend_from_slice(args);
        refuse_secret_flags(all)
    }

    #[test]
    fn secret_flags_name_their_variable_without_the_value() {
        let message =
            refuse(&["connection", "create", "--webflow-token=abc123"]).unwrap_or_default();
        assert!(
            message.contains("WEBFLOW_TOKEN") && !message.contains("abc123"),
            "{message}"
        );
        let message =
            refuse(&["connection", "create", "--smartsuite-api-key", "k"]).unwrap_or_default();
        assert!(message.contains("SMARTSUITE_API_KEY"), "{message}");
        assert!(refuse(&["connection", "create", "--api_key", "k"]).is_some());
        assert!(refuse(&["connection", "create", "--webhook-secret", "k"]).is_some());
    }

    #[test]
    fn ordinary_flags_and_subcommands_pass() {
        assert!(refuse(&["connection", "rotate-secret", "x", "--json"]).is_none());
        assert!(
            refuse(&[
                "connection",
                "create",
                "--name",
                "token",
                "--scheme",
                "hmac"
            ])
            .is_none()
        );
        assert!(refuse(&["events", "list", "--status", "dead_letter"]).is_none());
        assert!(refuse(&["mapping", "set", "c", "--", "--token"]).is_none());
    }
}
