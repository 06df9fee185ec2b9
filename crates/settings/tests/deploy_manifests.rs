//! The Kubernetes manifests under `deploy/k8s` name only real settings ([`VARIABLES`]), give
//! every workload the required ones (and each of [`REQUIRED_BY`] its own), and set the values
//! this crate knows how to check to valid values.
//!
//! Every document of every YAML file is parsed; what is read from it: `kind`, `metadata.name`,
//! the `data`/`stringData` of ConfigMaps and Secrets, the `env` and `envFrom` of every container
//! (and init container) wherever a document holds `containers`, and the `secretTargetRef` of
//! KEDA's TriggerAuthentication. A file that is not YAML, or one of these parts in a shape
//! Kubernetes would refuse, is a problem rather than something skipped. Rendering and schema
//! validation are `scripts/check-deploy.sh`'s job.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_norway::Value;
use suiteflow_settings::parts::{ApiBases, PublicUrl, RetryConfig};
use suiteflow_settings::{Reader, Source, VARIABLES, boolean, socket_addr};

/// Settings every process needs.
const REQUIRED: &[&str] = &["DATABASE_URL", "DATA_ENCRYPTION_KEY"];
/// Settings one workload needs besides [`REQUIRED`], by its `metadata.name`: the console refuses
/// to start without its password.
const REQUIRED_BY: &[(&str, &[&str])] = &[("suiteflow-console", &["DASHBOARD_PASSWORD_HASH"])];
/// Variables a manifest may name besides the settings: the one naming the TOML file.
const ALSO_ALLOWED: &[&str] = &["SUITEFLOW_CONFIG"];

fn manifests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/k8s")
}

/// One YAML document of one file.
#[derive(Debug)]
struct Doc {
    file: PathBuf,
    kind: String,
    name: String,
    value: Value,
}

impl Doc {
    fn label(&self) -> String {
        format!("{} {} ({})", self.kind, self.name, self.file.display())
    }

    /// The top-level mapping `key` (`data`, `stringData`) as its entries; a value of another
    /// shape, a key or an entry that is not a string, is a problem.
    fn string_map(&self, key: &str, problems: &mut Vec<String>) -> Vec<(String, String)> {
        let Some(value) = self.value.get(key) else {
            return Vec::new();
        };
        let Some(map) = value.as_mapping() else {
            problems.push(format!("{}: {key} is not a mapping", self.label()));
            return Vec::new();
        };
        let mut entries = Vec::new();
        for (k, v) in map {
            match (k.as_str(), v.as_str()) {
                (Some(k), Some(v)) => entries.push((k.to_string(), v.to_string())),
                (Some(k), None) => problems.push(format!(
                    "{}: {key}.{k} is not a string (quote it)",
                    self.label()
                )),
                (None, _) => problems.push(format!(
                    "{}: {key} has a key that is not a string",
                    self.label()
                )),
            }
        }
        entries
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
}

/// The documents of one file that have a `kind`, in order; a document that does not parse is a
/// problem (and ends the file: the parser cannot find the next one).
fn parse_docs(file: &Path, text: &str, problems: &mut Vec<String>) -> Vec<Doc> {
    let mut docs = Vec::new();
    for document in serde_norway::Deserializer::from_str(text) {
        let value = match Value::deserialize(document) {
            Ok(value) => value,
            Err(e) => {
                problems.push(format!("{}: not valid YAML: {e}", file.display()));
                break;
            }
        };
        let text_at = |path: &[&str]| {
            path.iter()
                .try_fold(&value, |v, key| v.get(key))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let kind = text_at(&["kind"]);
        if kind.is_empty() {
            continue;
        }
        let name = text_at(&["metadata", "name"]);
        docs.push(Doc {
            file: file.to_path_buf(),
            kind,
            name,
            value,
        });
    }
    docs
}

/// Every document under `root`, files in name order.
fn read_docs(root: &Path, problems: &mut Vec<String>) -> Vec<Doc> {
    let mut files = Vec::new();
    yaml_files(root, &mut files);
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            let text =
                fs::read_to_string(f).unwrap_or_else(|e| panic!("reading {}: {e}", f.display()));
            parse_docs(f.strip_prefix(root).unwrap_or(f), &text, problems)
        })
        .collect()
}

/// The parts of a container (or init container) this test reads; the rest is ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Container {
    #[serde(default)]
    env: Vec<EnvVar>,
    #[serde(default)]
    env_from: Vec<EnvFrom>,
}

#[derive(Debug, Deserialize)]
struct EnvVar {
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EnvFrom {
    config_map_ref: Option<Reference>,
    secret_ref: Option<Reference>,
}

#[derive(Debug, Deserialize)]
struct Reference {
    name: Option<String>,
}

/// One entry of a TriggerAuthentication's `spec.secretTargetRef`.
#[derive(Debug, Deserialize)]
struct SecretTarget {
    name: String,
    key: String,
}

/// What one workload (a document with `containers`) gets: variables set one by one, and the
/// ConfigMaps and Secrets it takes whole.
#[derive(Debug, Default)]
struct Workload {
    env: Vec<String>,
    config_maps: Vec<String>,
    secrets: Vec<String>,
}

/// The container lists anywhere in `value` (a pod template's, a CronJob's, a bare pod's), and
/// whether one of them is a `containers` list.
fn container_lists<'a>(value: &'a Value, lists: &mut Vec<(&'a str, &'a Value)>) -> bool {
    let mut found = false;
    match value {
        Value::Mapping(map) => {
            for (k, v) in map {
                match k.as_str() {
                    Some(key @ ("containers" | "initContainers")) => {
                        found |= key == "containers";
                        lists.push((key, v));
                    }
                    _ => found |= container_lists(v, lists),
                }
            }
        }
        Value::Sequence(items) => {
            for item in items {
                found |= container_lists(item, lists);
            }
        }
        Value::Tagged(tagged) => found |= container_lists(&tagged.value, lists),
        _ => {}
    }
    found
}

fn workload(doc: &Doc, problems: &mut Vec<String>) -> Option<Workload> {
    let mut lists = Vec::new();
    if !container_lists(&doc.value, &mut lists) {
        return None;
    }
    let mut w = Workload::default();
    for (key, list) in lists {
        let containers: Vec<Container> = match serde_norway::from_value(list.clone()) {
            Ok(containers) => containers,
            Err(e) => {
                problems.push(format!("{}: {key} cannot be read: {e}", doc.label()));
                continue;
            }
        };
        for container in containers {
            w.env.extend(container.env.into_iter().map(|var| var.name));
            for from in container.env_from {
                match (from.config_map_ref, from.secret_ref) {
                    (Some(Reference { name: Some(n) }), None) => w.config_maps.push(n),
                    (None, Some(Reference { name: Some(n) })) => w.secrets.push(n),
                    (Some(Reference { name: None }), None) => {
                        problems.push(format!("{}: configMapRef without a name", doc.label()));
                    }
                    (None, Some(Reference { name: None })) => {
                        problems.push(format!("{}: secretRef without a name", doc.label()));
                    }
                    _ => problems.push(format!(
                        "{}: an envFrom entry needs exactly one of configMapRef and secretRef",
                        doc.label()
                    )),
                }
            }
        }
    }
    Some(w)
}

/// Every problem with the manifests under `root`, one line each.
fn check(root: &Path) -> Vec<String> {
    let valid: BTreeSet<&str> = VARIABLES.iter().chain(ALSO_ALLOWED).copied().collect();
    let mut problems = Vec::new();
    let docs = read_docs(root, &mut problems);

    // ConfigMaps and Secrets by name; patches of the same name add keys to the same entry.
    let mut config_maps: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut secrets: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for doc in &docs {
        let target = match doc.kind.as_str() {
            "ConfigMap" => &mut config_maps,
            "Secret" => &mut secrets,
            _ => continue,
        };
        let keys = target.entry(doc.name.as_str()).or_default();
        for part in ["data", "stringData"] {
            keys.extend(
                doc.string_map(part, &mut problems)
                    .into_iter()
                    .map(|(k, _)| k),
            );
        }
    }

    let mut workloads = 0;
    for doc in &docs {
        // KEDA reads settings straight from the Secret (the database URL for its scaler).
        if doc.kind == "TriggerAuthentication" {
            let targets = doc
                .value
                .get("spec")
                .and_then(|spec| spec.get("secretTargetRef"))
                .cloned()
                .map(serde_norway::from_value::<Vec<SecretTarget>>)
                .transpose();
            match targets {
                Err(e) => problems.push(format!(
                    "{}: secretTargetRef cannot be read: {e}",
                    doc.label()
                )),
                Ok(targets) => {
                    for SecretTarget { name, key } in targets.unwrap_or_default() {
                        match secrets.get(name.as_str()) {
                            None => problems
                                .push(format!("{}: Secret {name} is in no manifest", doc.label())),
                            Some(keys) if !keys.contains(&key) => problems.push(format!(
                                "{}: key {key} is not in Secret {name}",
                                doc.label()
                            )),
                            Some(_) => {}
                        }
                        if !valid.contains(key.as_str()) {
                            problems
                                .push(format!("{}: {key} is not a suiteflow setting", doc.label()));
                        }
                    }
                }
            }
        }
        let Some(w) = workload(doc, &mut problems) else {
            continue;
        };
        workloads += 1;
        let mut given: BTreeSet<String> = BTreeSet::new();
        for name in &w.env {
            if !valid.contains(name.as_str()) {
                problems.push(format!(
                    "{}: env {name} is not a suiteflow setting",
                    doc.label()
                ));
            }
            given.insert(name.clone());
        }
        for (kind, refs, known) in [
            ("ConfigMap", &w.config_maps, &config_maps),
            ("Secret", &w.secrets, &secrets),
        ] {
            for r in refs {
                match known.get(r.as_str()) {
                    None => problems.push(format!("{}: {kind} {r} is in no manifest", doc.label())),
                    Some(keys) => {
                        for key in keys {
                            if !valid.contains(key.as_str()) {
                                problems.push(format!(
                                    "{}: {kind} {r} sets {key}, which is not a suiteflow setting",
                                    doc.label()
                                ));
                            }
                        }
                        given.extend(keys.iter().cloned());
                    }
                }
            }
        }
        let own = REQUIRED_BY
            .iter()
            .filter(|(name, _)| *name == doc.name)
            .flat_map(|(_, settings)| settings.iter());
        for required in REQUIRED.iter().chain(own) {
            if !given.contains(*required) {
                problems.push(format!(
                    "{}: required setting {required} is missing",
                    doc.label()
                ));
            }
        }
    }
    if workloads == 0 {
        problems.push(format!("no workload under {}", root.display()));
    }
    problems
}

/// The values of every ConfigMap's `data`, in document order, as an environment.
fn config_map_values(root: &Path) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let env = read_docs(root, &mut problems)
        .iter()
        .filter(|d| d.kind == "ConfigMap")
        .flat_map(|d| d.string_map("data", &mut problems))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    env
}

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
