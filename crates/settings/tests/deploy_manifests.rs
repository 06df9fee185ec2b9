//! The Kubernetes manifests under `deploy/k8s` name only real settings ([`VARIABLES`]), give
//! every workload the required ones (and each of [`REQUIRED_BY`] its own), and set the values this crate knows how to check to valid
//! values.
//!
//! The manifests are read with a small line scanner rather than a YAML library: it understands
//! the block style they are written in (`kind:`, `metadata.name`, `data:`/`stringData:`, `env:`,
//! `envFrom:` with `configMapRef`/`secretRef`, KEDA's `secretTargetRef`), and refuses the flow
//! style (`env: [...]`) it could not read, so nothing is skipped silently. Rendering and schema
//! validation are `scripts/check-deploy.sh`'s job.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

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
#[derive(Debug, Default)]
struct Doc {
    file: PathBuf,
    kind: String,
    name: String,
    lines: Vec<String>,
}

impl Doc {
    fn label(&self) -> String {
        format!("{} {} ({})", self.kind, self.name, self.file.display())
    }
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn is_blank(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// The text after `key:` on a line, unquoted, without a trailing comment.
fn value_of<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.trim_start().trim_start_matches("- ").trim_start();
    let rest = rest.strip_prefix(key)?.strip_prefix(':')?;
    let rest = rest.split(" #").next().unwrap_or_default().trim();
    Some(rest.trim_matches(|c| c == '"' || c == '\''))
}

/// The lines nested under the line at `at` (deeper indented, or list items at its indent).
fn block(lines: &[String], at: usize) -> Vec<&str> {
    let base = indent(&lines[at]);
    let mut out = Vec::new();
    for line in &lines[at + 1..] {
        if is_blank(line) {
            continue;
        }
        let i = indent(line);
        if i > base || (i == base && line.trim_start().starts_with("- ")) {
            out.push(line.as_str());
        } else {
            break;
        }
    }
    out
}

/// The keys of a map block (its direct children).
fn map_keys(block: &[&str]) -> Vec<String> {
    let Some(first) = block.first() else {
        return Vec::new();
    };
    let level = indent(first);
    block
        .iter()
        .filter(|l| indent(l) == level)
        .filter_map(|l| {
            l.trim()
                .split_once(':')
                .map(|(k, _)| k.trim_matches('"').to_string())
        })
        .collect()
}

/// The `name` of each item of a list block, whether on the dash line or the next ones.
fn item_names(block: &[&str]) -> Vec<String> {
    let Some(first) = block.iter().find(|l| l.trim_start().starts_with("- ")) else {
        return Vec::new();
    };
    let level = indent(first);
    let mut names = Vec::new();
    for line in block {
        let i = indent(line);
        let dash = line.trim_start().starts_with("- ");
        if ((i == level && dash) || i == level + 2)
            && let Some(name) = value_of(line, "name")
        {
            names.push(name.to_string());
        }
    }
    names
}

fn split_docs(file: &Path, text: &str) -> Vec<Doc> {
    let mut docs = vec![Doc {
        file: file.to_path_buf(),
        ..Doc::default()
    }];
    for line in text.lines() {
        if line.trim_end() == "---" {
            docs.push(Doc {
                file: file.to_path_buf(),
                ..Doc::default()
            });
            continue;
        }
        if let Some(doc) = docs.last_mut() {
            doc.lines.push(line.to_string());
        }
    }
    for doc in &mut docs {
        let mut in_metadata = false;
        for line in &doc.lines {
            if indent(line) == 0 && !is_blank(line) {
                in_metadata = line.trim_end() == "metadata:";
                if let Some(kind) = value_of(line, "kind") {
                    doc.kind = kind.to_string();
                }
            } else if in_metadata
                && indent(line) == 2
                && let Some(name) = value_of(line, "name")
            {
                doc.name = name.to_string();
            }
        }
    }
    docs.retain(|d| !d.kind.is_empty());
    docs
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

fn read_docs(root: &Path) -> Vec<Doc> {
    let mut files = Vec::new();
    yaml_files(root, &mut files);
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            let text =
                fs::read_to_string(f).unwrap_or_else(|e| panic!("reading {}: {e}", f.display()));
            split_docs(f.strip_prefix(root).unwrap_or(f), &text)
        })
        .collect()
}

/// What one workload (a document with `containers:`) gets: variables set one by one, and the
/// ConfigMaps and Secrets it takes whole.
#[derive(Debug, Default)]
struct Workload {
    env: Vec<String>,
    config_maps: Vec<String>,
    secrets: Vec<String>,
}

fn workload(doc: &Doc, problems: &mut Vec<String>) -> Option<Workload> {
    let lines = &doc.lines;
    if !lines.iter().any(|l| l.trim() == "containers:") {
        return None;
    }
    let mut w = Workload::default();
    for (at, line) in lines.iter().enumerate() {
        let t = line.trim().trim_start_matches("- ");
        if (t.starts_with("env:") || t.starts_with("envFrom:")) && t.contains('[') {
            problems.push(format!("{}: write `{t}` in block style", doc.label()));
        } else if t == "env:" {
            w.env.extend(item_names(&block(lines, at)));
        } else if t == "configMapRef:" || t == "secretRef:" {
            let name = block(lines, at)
                .iter()
                .find_map(|l| value_of(l, "name"))
                .map(String::from);
            match (t, name) {
                (_, None) => problems.push(format!("{}: {t} without a name", doc.label())),
                ("configMapRef:", Some(n)) => w.config_maps.push(n),
                (_, Some(n)) => w.secrets.push(n),
            }
        }
    }
    Some(w)
}

/// Every problem with the manifests under `root`, one line each.
fn check(root: &Path) -> Vec<String> {
    let valid: BTreeSet<&str> = VARIABLES.iter().chain(ALSO_ALLOWED).copied().collect();
    let docs = read_docs(root);
    let mut problems = Vec::new();

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
        for (at, line) in doc.lines.iter().enumerate() {
            if indent(line) == 0 && matches!(line.trim_end(), "data:" | "stringData:") {
                keys.extend(map_keys(&block(&doc.lines, at)));
            }
        }
    }

    let mut workloads = 0;
    for doc in &docs {
        // KEDA reads settings straight from the Secret (the database URL for its scaler).
        if doc.kind == "TriggerAuthentication" {
            for line in &doc.lines {
                if let Some(key) = value_of(line, "key") {
                    if !secrets.values().any(|keys| keys.contains(key)) {
                        problems.push(format!("{}: key {key} is in no Secret", doc.label()));
                    }
                    if !valid.contains(key) {
                        problems.push(format!("{}: {key} is not a suiteflow setting", doc.label()));
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

/// The values of every ConfigMap, as an environment.
fn config_map_values(root: &Path) -> Vec<(String, String)> {
    let mut env = Vec::new();
    for doc in read_docs(root).iter().filter(|d| d.kind == "ConfigMap") {
        for (at, line) in doc.lines.iter().enumerate() {
            if indent(line) == 0 && line.trim_end() == "data:" {
                for entry in block(&doc.lines, at) {
                    if let Some((key, _)) = entry.trim().split_once(':') {
                        let value = value_of(entry, key).unwrap_or_default();
                        env.push((key.to_string(), value.to_string()));
                    }
                }
            }
        }
    }
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
    let docs = read_docs(&manifests_dir());
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
fn a_reference_to_an_unknown_secret_or_flow_style_env_fails_the_check() {
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

    let flow = DEPLOYMENT.replace("          env:\n", "          env: [{name: X, value: y}]\n");
    write(dir.path(), "a.yaml", &format!("{flow}---\n{CONFIG}"));
    write(dir.path(), "secret.yaml", SECRET);
    let problems = check(dir.path()).join("\n");
    assert!(problems.contains("block style"), "{problems}");
}
