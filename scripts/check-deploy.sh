#!/usr/bin/env bash
# Offline checks of deploy/: every kustomization renders, every rendered object validates
# against the Kubernetes schemas (kubernetes-validate, strict) or KEDA's (deploy/schemas/keda),
# the pods are hardened as promised, and the Prometheus rules parse. No cluster, no network
# beyond installing the Python packages below from PyPI on first use.
#
# Rendering uses `kubectl kustomize` when kubectl is installed; without it, a small renderer in
# deploy/tools/check_manifests.py that knows only the kustomize features these manifests use
# (resources, namespace, images, patches by path) and refuses any other. When kubectl is present
# both render and must agree, so the fallback cannot drift.
#
# That settings named in the manifests exist (and the required ones are there) is a Rust test:
# crates/settings/tests/deploy_manifests.rs, run by `just test`.
set -euo pipefail
cd "$(dirname "$0")/.."

K8S_VERSION="${K8S_VERSION:-1.30}" # the oldest Kubernetes we support (preStop sleep needs 1.30)
tool=deploy/tools/check_manifests.py

if ! python3 -c 'import kubernetes_validate, jsonschema, referencing, yaml, promql_parser' 2>/dev/null; then
  python3 -m pip install --quiet 'kubernetes-validate==1.37.0' 'promql-parser==0.12.0'
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

status=0
for dir in deploy/k8s/base deploy/k8s/overlays/*/; do
  dir="${dir%/}"
  name="$(echo "$dir" | tr / _)"
  python3 "$tool" render "$dir" >"$out/$name.fallback.yaml"
  if command -v kubectl >/dev/null 2>&1; then
    kubectl kustomize "$dir" >"$out/$name.yaml"
    python3 "$tool" same "$out/$name.yaml" "$out/$name.fallback.yaml" || status=1
  else
    echo "check-deploy: kubectl not found; rendering $dir with the fallback renderer" >&2
    cp "$out/$name.fallback.yaml" "$out/$name.yaml"
  fi
  python3 "$tool" validate "$K8S_VERSION" "$out/$name.yaml" "$dir" || status=1
done

if command -v promtool >/dev/null 2>&1; then
  promtool check rules deploy/prometheus/rules.yml || status=1
fi
python3 "$tool" rules deploy/prometheus/rules.yml || status=1

exit "$status"
