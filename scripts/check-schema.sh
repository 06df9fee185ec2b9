#!/usr/bin/env bash
# Fails when crates/store/src/schema.rs drifts from the migrations.
#
#   scripts/check-schema.sh
#
# Creates a scratch database on the test cluster, applies every migration with the diesel CLI,
# checks that every down.sql reverts cleanly (`migration redo --all`), and diffs
# `diesel print-schema` (configured by diesel.toml) against the committed schema.rs.
# Without a running cluster (SUITEFLOW_TEST_PG unset) it starts one with scripts/with-postgres.sh.
# Needs the diesel CLI: cargo install diesel_cli --no-default-features --features postgres --locked
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ -z "${SUITEFLOW_TEST_PG:-}" ]; then
  exec "$root/scripts/with-postgres.sh" "$0" "$@"
fi
command -v diesel >/dev/null 2>&1 || {
  echo "diesel CLI not found: cargo install diesel_cli --no-default-features --features postgres --locked" >&2
  exit 69
}

name="schema_check_$$_$(date +%s)"
admin="$SUITEFLOW_TEST_PG"
url="${admin%/*}/$name"
work=$(mktemp -d)
cleanup() {
  psql -q "$admin" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

psql -q "$admin" -c "CREATE DATABASE $name" >/dev/null
# Run the CLI in a copy of the configuration that does not rewrite the committed file.
sed 's|^file = .*|file = "'"$work"'/ignored.rs"|' diesel.toml >"$work/diesel.toml"
export DIESEL_CONFIG_FILE="$work/diesel.toml"

diesel migration run --database-url "$url" --migration-dir migrations >/dev/null
diesel migration redo --all --database-url "$url" --migration-dir migrations >/dev/null
diesel print-schema --database-url "$url" >"$work/schema.rs"

if ! diff -u crates/store/src/schema.rs "$work/schema.rs"; then
  echo "crates/store/src/schema.rs differs from the migrations (diff above: committed vs generated)." >&2
  echo "Regenerate it: diesel print-schema --database-url <migrated db> > crates/store/src/schema.rs" >&2
  exit 1
fi
echo "schema.rs matches the migrations"
