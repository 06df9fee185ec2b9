//! The check of the manifests: every document of every YAML file is parsed; what is read from
//! it: `kind`, `metadata.name`, the `data`/`stringData` of ConfigMaps and Secrets, the `env` and
//! `envFrom` of every container (and init container) wherever a document holds `containers`,
//! and the `secretTargetRef` of KEDA's TriggerAuthentication. A file that is not YAML, or one
//! of these parts in a shape Kubernetes would refuse, is a problem rather than something
//! skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_norway::Value;
use suiteflow_settings::VARIABLES;

/// Settings every process needs.
const REQUIRED: &[&str] = &["DATABASE_URL", "DATA_ENCRYPTION_KEY"];
/// Settings one workload needs besides [`REQUIRED`], by its `metadata.name`: the console refuses
/// to start without its password.
pub const REQUIRED_BY: &[(&str, &[&str])] = &[("suiteflow-console", &["DASHBOARD_PASSWORD_HASH"])];
/// Variables a manifest may name besides the settings: the one naming the TOML file.
const ALSO_ALLOWED: &[&str] = &["SUITEFLOW_CONFIG"];

pub fn manifests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/k8s")
}

/// One YAML document of one file.
#[derive(Debug)]
pub struct Doc {
    file: PathBuf,
    kind: String,
    pub name: String,
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
pub fn read_docs(root: &Path, problems: &mut Vec<String>) -> Vec<Doc> {
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
pub struct Workload {
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

pub fn workload(doc: &Doc, problems: &mut Vec<String>) -> Option<Workload> {
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
pub fn check(root: &Path) -> Vec<String> {
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
pub fn config_map_values(root: &Path) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let env = read_docs(root, &mut problems)
        .iter()
        .filter(|d| d.kind == "ConfigMap")
        .flat_map(|d| d.string_map("data", &mut problems))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    env
}
