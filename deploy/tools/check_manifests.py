#!/usr/bin/env python3
"""Offline checks of suiteflow's deployment files, driven by scripts/check-deploy.sh.

  render DIR             print the kustomization in DIR rendered, for machines without kubectl
                         (only the kustomize features our manifests use; anything else is an error)
  same A B               the two rendered files hold the same objects (kubectl's rendering and
                         ours agree, so the fallback cannot drift unnoticed)
  validate VERSION FILE [LABEL]
                         every object in the rendered FILE against the Kubernetes VERSION schemas
                         (kubernetes-validate, strict: unknown fields fail) or, for KEDA's kinds,
                         the schemas under deploy/schemas/keda; plus the pod hardening the
                         manifests promise, and that the single-replica Deployments stay single
  rules FILE             a Prometheus rules file: structure, and every expression parses
                         (promql-parser)

Exits non-zero on the first kind of problem found, after printing every problem of that step.
"""

from __future__ import annotations

import copy
import json
import pathlib
import sys

import yaml

HERE = pathlib.Path(__file__).resolve().parent
SCHEMAS = HERE.parent / "schemas"

# Kinds without a namespace (the ones a suiteflow overlay may plausibly contain).
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PriorityClass",
    "StorageClass",
    "PersistentVolume",
    "ClusterTriggerAuthentication",
}

# Deployments that must run as exactly one pod at any time (the console keeps its backfills in
# memory): replicas 1, strategy Recreate, and no autoscaler targets them.
SINGLETONS = {"suiteflow-console"}

KUSTOMIZATION_KEYS = {"apiVersion", "kind", "namespace", "resources", "images", "patches"}


def fail(problems: list[str]) -> None:
    for p in problems:
        print(f"check-deploy: {p}", file=sys.stderr)
    sys.exit(1)


def load_docs(path: pathlib.Path) -> list[dict]:
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


# --- the fallback renderer -------------------------------------------------------------------


def merge(base, patch):
    """A strategic-merge patch as far as our patches need it: maps merge key by key, a list of
    maps that all have a `name` merges item by item on it, any other value replaces."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            elif key in out:
                out[key] = merge(out[key], value)
            else:
                out[key] = copy.deepcopy(value)
        return out
    named = lambda xs: isinstance(xs, list) and all(isinstance(x, dict) and "name" in x for x in xs)
    if named(base) and named(patch) and base and patch:
        out = [copy.deepcopy(x) for x in base]
        for item in patch:
            for i, existing in enumerate(out):
                if existing["name"] == item["name"]:
                    out[i] = merge(existing, item)
                    break
            else:
                out.append(copy.deepcopy(item))
        return out
    return copy.deepcopy(patch)


def set_images(node, images: list[dict]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                for container in value:
                    container["image"] = new_image(container.get("image", ""), images)
            else:
                set_images(value, images)
    elif isinstance(node, list):
        for value in node:
            set_images(value, images)


def new_image(image: str, images: list[dict]) -> str:
    for rule in images:
        name = rule["name"]
        if image == name or image.startswith(name + ":") or image.startswith(name + "@"):
            tag = image[len(name):]
            result = rule.get("newName", name)
            if "digest" in rule:
                return f"{result}@{rule['digest']}"
            if "newTag" in rule:
                return f"{result}:{rule['newTag']}"
            return result + tag
    return image


def render(directory: pathlib.Path) -> list[dict]:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - KUSTOMIZATION_KEYS
    if unknown:
        fail([f"{directory}/kustomization.yaml uses {sorted(unknown)}, which the fallback "
              "renderer does not support: install kubectl (its `kubectl kustomize`)"])
    objects: list[dict] = []
    for entry in kustomization.get("resources", []):
        path = directory / entry
        objects += render(path) if path.is_dir() else load_docs(path)
    for patch in kustomization.get("patches", []):
        if set(patch) != {"path"}:
            fail([f"{directory}: the fallback renderer supports only `patches: - path: FILE`"])
        for doc in load_docs(directory / patch["path"]):
            matches = [o for o in objects if o["kind"] == doc["kind"]
                       and o["metadata"]["name"] == doc["metadata"]["name"]]
            if len(matches) != 1:
                fail([f"{directory}/{patch['path']}: no single {doc['kind']} "
                      f"{doc['metadata']['name']} to patch"])
            target = matches[0]
            merged = merge(target, {k: v for k, v in doc.items() if k not in ("apiVersion", "kind")})
            target.clear()
            target.update(merged)
    if "namespace" in kustomization:
        for o in objects:
            if o["kind"] not in CLUSTER_SCOPED:
                o["metadata"]["namespace"] = kustomization["namespace"]
    if "images" in kustomization:
        for o in objects:
            set_images(o, kustomization["images"])
    return objects


def key(o: dict) -> tuple:
    return (o.get("apiVersion"), o.get("kind"), o["metadata"].get("namespace", ""),
            o["metadata"]["name"])


def same(a: pathlib.Path, b: pathlib.Path) -> None:
    left = {key(o): o for o in load_docs(a)}
    right = {key(o): o for o in load_docs(b)}
    problems = [f"{k} only in {a}" for k in left.keys() - right.keys()]
    problems += [f"{k} only in {b}" for k in right.keys() - left.keys()]
    problems += [f"{k} differs between {a} and {b}" for k in left.keys() & right.keys()
                 if left[k] != right[k]]
    if problems:
        fail(problems)


# --- schema and policy validation ------------------------------------------------------------


def keda_validator(kind: str, version: str):
    import jsonschema
    import referencing
    from kubernetes_validate import utils

    path = SCHEMAS / "keda" / f"{kind.lower()}-keda-v1alpha1.json"
    if not path.exists():
        return None
    schema = json.loads(path.read_text())
    # kubernetes-validate's definitions of the release nearest below `version`.
    known = [v for v in utils.all_versions()
             if utils.major_minor(v) <= utils.major_minor(version)] or utils.all_versions()
    definitions = utils.schema_contents(
        f"kubernetes-json-schema/v{known[-1]}-local-strict/_definitions.json", version)
    registry = referencing.Resource.from_contents(definitions) @ referencing.Registry()
    return jsonschema.Draft202012Validator(schema, registry=registry)


def pod_specs(o: dict):
    spec = o.get("spec", {})
    if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"):
        yield spec.get("template", {}).get("spec", {})
    elif o["kind"] == "CronJob":
        yield spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec", {})
    elif o["kind"] == "Pod":
        yield spec


def hardening(o: dict) -> list[str]:
    """What the manifests promise about every pod: non-root, read-only root, no capabilities,
    the runtime's seccomp profile, resource requests and limits, a pinned image."""
    name = f"{o['kind']}/{o['metadata']['name']}"
    problems = []
    for pod in pod_specs(o):
        psc = pod.get("securityContext", {})
        if psc.get("runAsNonRoot") is not True:
            problems.append(f"{name}: pod securityContext.runAsNonRoot must be true")
        if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{name}: pod seccompProfile must be RuntimeDefault")
        for c in pod.get("initContainers", []) + pod.get("containers", []):
            csc = c.get("securityContext", {})
            where = f"{name} container {c.get('name')}"
            if csc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: readOnlyRootFilesystem must be true")
            if csc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation must be false")
            if "ALL" not in csc.get("capabilities", {}).get("drop", []):
                problems.append(f"{where}: capabilities must drop ALL")
            res = c.get("resources", {})
            if not res.get("requests") or not res.get("limits", {}).get("memory"):
                problems.append(f"{where}: needs resource requests and a memory limit")
    return problems


def singletons(objects: list[dict]) -> list[str]:
    """The Deployments of SINGLETONS run one pod, never two at once, and nothing scales them."""
    problems = []
    for o in objects:
        name = o["metadata"]["name"]
        if o["kind"] == "Deployment" and name in SINGLETONS:
            spec = o.get("spec", {})
            if spec.get("replicas") != 1:
                problems.append(f"Deployment/{name}: replicas must be 1")
            if spec.get("strategy", {}).get("type") != "Recreate":
                problems.append(f"Deployment/{name}: strategy must be Recreate (never two at once)")
        target = o.get("spec", {}).get("scaleTargetRef", {})
        if o["kind"] in ("HorizontalPodAutoscaler", "ScaledObject") \
                and target.get("kind", "Deployment") == "Deployment" \
                and target.get("name") in SINGLETONS:
            problems.append(f"{o['kind']}/{name}: scales {target['name']}, which must stay at 1")
    return problems


def validate(version: str, rendered: pathlib.Path, label: str) -> None:
    from kubernetes_validate import utils

    problems: list[str] = []
    objects = load_docs(rendered)
    if not objects:
        fail([f"{label}: no objects"])
    for o in objects:
        name = f"{o.get('kind')}/{o.get('metadata', {}).get('name')}"
        if str(o.get("apiVersion", "")).startswith("keda.sh/"):
            validator = keda_validator(o["kind"], version)
            if validator is None:
                problems.append(f"{name}: no schema under deploy/schemas/keda for this kind")
                continue
            for error in validator.iter_errors(o):
                path = ".".join(str(p) for p in error.absolute_path)
                problems.append(f"{name}: {path}: {error.message}")
        else:
            try:
                utils.validate(o, version, strict=True)
            except utils.ValidationError as error:
                path = ".".join(str(p) for p in error.path)
                problems.append(f"{name}: {path}: {error.message}")
            except utils.SchemaNotFoundError as error:
                problems.append(f"{name}: {error.message}")
        problems += hardening(o)
    problems += singletons(objects)
    if problems:
        fail([f"{label}: {p}" for p in problems])
    print(f"{label}: {len(objects)} objects valid against Kubernetes {version} "
          "(strict) and the KEDA schemas")


# --- Prometheus rules -------------------------------------------------------------------------


def rules(path: pathlib.Path) -> None:
    import promql_parser

    problems = []
    doc = yaml.safe_load(path.read_text())
    groups = doc.get("groups") if isinstance(doc, dict) else None
    if not groups:
        fail([f"{path}: no `groups`"])
    count = 0
    for group in groups:
        if not group.get("name") or not group.get("rules"):
            problems.append(f"{path}: a group needs a name and rules")
            continue
        for rule in group["rules"]:
            label = rule.get("alert") or rule.get("record")
            allowed = {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}
            if set(rule) - allowed:
                problems.append(f"{path}: {label}: unknown keys {sorted(set(rule) - allowed)}")
            if not label or not rule.get("expr"):
                problems.append(f"{path}: every rule needs `alert` (or `record`) and `expr`")
                continue
            try:
                promql_parser.parse(str(rule["expr"]))
            except Exception as error:  # the parser raises its own error types
                problems.append(f"{path}: {label}: expr does not parse: {error}")
            if "alert" in rule and not rule.get("annotations", {}).get("summary"):
                problems.append(f"{path}: {label}: an alert needs annotations.summary")
            count += 1
    if problems:
        fail(problems)
    print(f"{path}: {count} rules, every expression parses")


def main(argv: list[str]) -> None:
    match argv:
        case ["render", directory]:
            print(yaml.safe_dump_all(render(pathlib.Path(directory)), sort_keys=False), end="")
        case ["same", a, b]:
            same(pathlib.Path(a), pathlib.Path(b))
        case ["validate", version, rendered]:
            validate(version, pathlib.Path(rendered), rendered)
        case ["validate", version, rendered, label]:
            validate(version, pathlib.Path(rendered), label)
        case ["rules", path]:
            rules(pathlib.Path(path))
        case _:
            print(__doc__, file=sys.stderr)
            sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
