//! The Kubernetes manifests under `deploy/k8s` name only real settings, give every workload the
//! required ones (and each of `REQUIRED_BY` its own), and set the values this crate knows how to
//! check to valid values; and the check itself ([`check`]) catches each kind of mistake.
//! Rendering and schema validation are `scripts/check-deploy.sh`'s job.

#[path = "deploy_manifests/check.rs"]
mod check;

use std::fs;
use std::path::Path;

use check::{REQUIRED_BY, check, config_map_values, manifests_dir, read_docs, workload};
use suiteflow_settings::parts::{ApiBases, PublicUrl, RetryConfig};
use suiteflow_settings::{Reader, Source, boolean, socket_addr};

#[test]
fn manifests_name_only_settings_and_give_every_workload_the_required_ones() {
    let problems = check(&manifests_dir());
    assert!(problems.is_empty(), "deploy/k8s:\n{}", problems.join("\n"));
}

#[test]
fn every_workload_with_settings_of_its_own_is_in_the_manifests() {
    // Otherwise a renamed workload would silently escape REQUIRED_BY.
    let docs = read_docs(&manifests_dir(), &mut Vec::new());
    for (name, _) in REQUIRED_BY {
        assert!(
            docs.iter()
                .any(|d| d.name == *name && workload(d, &mut Vec::new()).is_some()),
            "no workload {name} under deploy/k8s"
        );
    }
}

#[test]
fn config_map_values_follow_the_rules() {
    let env = config_map_values(&manifests_dir());
    assert!(
        env.iter().any(|(k, _)| k == "APP_URL"),
        "no ConfigMap values read: {env:?}"
    );
    // Later documents (overlay patches) override earlier ones, as in the environment.
    let source = Source::new(None, env.clone()).unwrap_or_else(|p| panic!("{p}"));
    let mut r = Reader::new(&source);
    let url = PublicUrl::read(&mut r);
    let retry = RetryConfig::read(&mut r);
    let bases = ApiBases::read(&mut r);
    r.finish(|| Some((url?, retry?, bases?)))
        .unwrap_or_else(|p| panic!("{p}"));
    for (key, value) in &env {
        let checked = match key.as_str() {
            "INGRESS_ADDR" | "WORKER_METRICS_ADDR" | "CONSOLE_ADDR" => {
                socket_addr(value).map(|_| ())
            }
            "PRETTY_LOGS" => boolean(value).map(|_| ()),
            _ => Ok(()),
        };
        assert!(checked.is_ok(), "ConfigMap {key}: {checked:?}");
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("writing {name}: {e}"));
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
        - name: app
          image: suiteflow
          envFrom:
            - configMapRef:
                name: config
            - secretRef:
                name: secrets
          env:
            - name: OTEL_SERVICE_NAME
              value: app
            - name: LOG_LEVEL
              valueFrom:
                configMapKeyRef:
                  name: other
                  key: level
";

const CONFIG: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: config
data:
  APP_URL: \"https://sync.example.com\"
";

const SECRET: &str = "apiVersion: v1
kind: Secret
metadata:
  name: secrets
stringData:
  DATABASE_URL: postgres://example
  DATA_ENCRYPTION_KEY: placeholder
";

#[test]
fn the_check_accepts_a_correct_set() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.yaml", &format!("{DEPLOYMENT}---\n{CONFIG}"));
    write(dir.path(), "secret.yaml", SECRET);
    assert_eq!(check(dir.path()), Vec::<String>::new());
}

#[test]
fn a_variable_that_is_no_setting_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let deployment = DEPLOYMENT.replace("name: LOG_LEVEL", "name: LOG_LEVL");
    write(
        dir.path(),
        "a.yaml",
        &format!("{deployment}---\n{CONFIG}  BOGUS_SETTING: \"1\"\n"),
    );
    write(
        dir.path(),
        "secret.yaml",
        &format!("{SECRET}  DATABASE_PASSWORD: x\n"),
    );
    let problems = check(dir.path()).join("\n");
    for name in ["LOG_LEVL", "BOGUS_SETTING", "DATABASE_PASSWORD"] {
        assert!(problems.contains(name), "{name} not reported:\n{problems}");
    }
    assert!(!problems.contains("OTEL_SERVICE_NAME"), "{problems}");
}

#[test]
fn a_missing_required_setting_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.yaml", &format!("{DEPLOYMENT}---\n{CONFIG}"));
    write(
        dir.path(),
        "secret.yaml",
        &SECRET.replace("  DATA_ENCRYPTION_KEY: placeholder\n", ""),
    );
    let problems = check(dir.path());
    assert_eq!(
        problems,
        vec!["Deployment app (a.yaml): required setting DATA_ENCRYPTION_KEY is missing"]
    );
}

#[test]
fn a_workload_without_its_own_required_setting_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let console = DEPLOYMENT.replace(
        "metadata:\n  name: app\n",
        "metadata:\n  name: suiteflow-console\n",
    );
    write(dir.path(), "a.yaml", &format!("{console}---\n{CONFIG}"));
    write(dir.path(), "secret.yaml", SECRET);
    assert_eq!(
        check(dir.path()),
        vec![
            "Deployment suiteflow-console (a.yaml): required setting DASHBOARD_PASSWORD_HASH is missing"
        ]
    );
    write(
        dir.path(),
        "secret.yaml",
        &format!("{SECRET}  DASHBOARD_PASSWORD_HASH: placeholder\n"),
    );
    assert_eq!(check(dir.path()), Vec::<String>::new());
}

#[test]
fn a_reference_to_an_unknown_secret_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.yaml", &format!("{DEPLOYMENT}---\n{CONFIG}"));
    let problems = check(dir.path()).join("\n");
    assert!(
        problems.contains("Secret secrets is in no manifest"),
        "{problems}"
    );
    assert!(
        problems.contains("required setting DATABASE_URL is missing"),
        "{problems}"
    );
}

/// [`DEPLOYMENT`] in flow style, with a comment, an init container and a misspelt variable.
const FLOW_DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  template:
    spec:
      containers:
        - name: app # the only one
          image: suiteflow
          envFrom: [{configMapRef: {name: config}}, {secretRef: {name: secrets}}]
          env: [{name: OTEL_SERVICE_NAME, value: app}, {name: \"LOG_LEVL\", value: debug}]
      initContainers:
        - {name: init, image: suiteflow, env: [{name: BOGUS_INIT, value: x}]}
";

#[test]
fn any_yaml_style_is_read() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.yaml",
        &format!("{FLOW_DEPLOYMENT}---\n{CONFIG}"),
    );
    write(dir.path(), "secret.yaml", SECRET);
    assert_eq!(
        check(dir.path()),
        vec![
            "Deployment app (a.yaml): env LOG_LEVL is not a suiteflow setting",
            "Deployment app (a.yaml): env BOGUS_INIT is not a suiteflow setting",
        ]
    );
}

#[test]
fn what_kubernetes_would_refuse_fails_the_check_instead_of_being_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "secret.yaml", SECRET);
    for (deployment, config, expected) in [
        (
            // An env entry without its name.
            DEPLOYMENT.replace(
                "            - name: OTEL_SERVICE_NAME\n              value: app\n",
                "            - value: app\n",
            ),
            CONFIG.to_string(),
            "containers cannot be read",
        ),
        (
            DEPLOYMENT.replace(
                "                name: secrets\n",
                "                optional: true\n",
            ),
            CONFIG.to_string(),
            "secretRef without a name",
        ),
        (
            DEPLOYMENT.to_string(),
            format!("{CONFIG}  PRETTY_LOGS: false\n"),
            "data.PRETTY_LOGS is not a string",
        ),
        (
            DEPLOYMENT.to_string(),
            format!("{CONFIG}  - nonsense\n"),
            "not valid YAML",
        ),
    ] {
        write(dir.path(), "a.yaml", &format!("{deployment}---\n{config}"));
        let problems = check(dir.path()).join("\n");
        assert!(problems.contains(expected), "{expected}:\n{problems}");
    }
}

const TRIGGER_AUTHENTICATION: &str = "apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: postgres
spec:
  secretTargetRef:
    - parameter: connection
      name: secrets
      key: DATABASE_URL
";

#[test]
fn keda_reads_only_settings_the_secret_has() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.yaml", &format!("{DEPLOYMENT}---\n{CONFIG}"));
    write(dir.path(), "secret.yaml", SECRET);
    write(dir.path(), "keda.yaml", TRIGGER_AUTHENTICATION);
    assert_eq!(check(dir.path()), Vec::<String>::new());

    let label = "TriggerAuthentication postgres (keda.yaml)";
    for (from, to, expected) in [
        (
            "key: DATABASE_URL",
            "key: DATA_ENCRYPTION_KEY_PREVIOUS",
            vec![format!(
                "{label}: key DATA_ENCRYPTION_KEY_PREVIOUS is not in Secret secrets"
            )],
        ),
        (
            "key: DATABASE_URL",
            "key: PGPASSWORD",
            vec![
                format!("{label}: key PGPASSWORD is not in Secret secrets"),
                format!("{label}: PGPASSWORD is not a suiteflow setting"),
            ],
        ),
        (
            "name: secrets",
            "name: other",
            vec![format!("{label}: Secret other is in no manifest")],
        ),
    ] {
        write(
            dir.path(),
            "keda.yaml",
            &TRIGGER_AUTHENTICATION.replace(from, to),
        );
        assert_eq!(check(dir.path()), expected, "{to}");
    }
}
