#!/usr/bin/env bash
# Runs a command against a private, throw-away PostgreSQL cluster.
#
#   scripts/with-postgres.sh [--durable] [--keep] CMD [ARGS...]
#
# Starts a cluster (initdb + pg_ctl from the machine's PostgreSQL >= 14) in a temporary
# directory, listening on a free loopback port, creates the database `suiteflow_template`,
# applies the migrations with `suiteflow migrate`, then runs CMD with
#   SUITEFLOW_TEST_PG  admin URL of the cluster (tests clone the template per test)
#   DATABASE_URL       URL of the migrated template database
#   SUITEFLOW_TEST_PG_CTL  pg_ctl for the cluster (stop/start it, for chaos runs)
# and stops the cluster when CMD ends, whatever its exit status. Works as root (the server then
# runs as the `postgres` user, since initdb refuses root) and as a normal user.
# --durable keeps fsync and synchronous_commit on (benchmarks); tests turn them off for speed.
set -euo pipefail

durable=0
while [ $# -gt 0 ]; do
  case "$1" in
    --durable) durable=1; shift ;;
    --) shift; break ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--durable] CMD [ARGS...]" >&2; exit 64; }

root=$(cd "$(dirname "$0")/.." && pwd)

find_pg_bin() {
  local dir
  if command -v pg_config >/dev/null 2>&1; then
    dir=$(pg_config --bindir 2>/dev/null || true)
    [ -x "$dir/initdb" ] && { echo "$dir"; return; }
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$dir/initdb" ] && { echo "$dir"; return; }
  done
  dir=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
  [ -x "$dir/initdb" ] && { echo "$dir"; return; }
  echo "PostgreSQL server binaries (initdb, pg_ctl) not found; install postgresql (>= 14)" >&2
  exit 69
}
pgbin=$(find_pg_bin)
version=$("$pgbin/initdb" --version | grep -oE '[0-9]+' | head -1)
if [ "$version" -lt 14 ]; then echo "PostgreSQL >= 14 needed, found $version" >&2; exit 69; fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/suiteflow-pg.XXXXXX")
chmod 755 "$dir"
as_pg=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$dir"
  as_pg=(runuser -u postgres --)
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

stop() {
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM

"${as_pg[@]}" "$pgbin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
opts="-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c shared_buffers=128MB"
if [ "$durable" = 0 ]; then
  opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "$opts" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }

# pg_ctl for this cluster (`$SUITEFLOW_TEST_PG_CTL stop -m fast`, `... start`): chaos runs
# restart the server under load.
cat >"$dir/pg_ctl" <<EOF
#!/usr/bin/env bash
exec ${as_pg[*]} "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "$opts" "\$@"
EOF
chmod 755 "$dir/pg_ctl"
export SUITEFLOW_TEST_PG_CTL="$dir/pg_ctl"
export SUITEFLOW_TEST_PG="postgres://postgres@127.0.0.1:$port/postgres"
export SUITEFLOW_TEST_PG_DIR="$dir"
export DATABASE_URL="postgres://postgres@127.0.0.1:$port/suiteflow_template"
psql -q "$SUITEFLOW_TEST_PG" -c "CREATE DATABASE suiteflow_template" >/dev/null

# Migrate the template with the real binary. It validates its whole configuration, so give it a
# throw-away key; the migrated template is what every test database is cloned from.
(cd "$root" && DATA_ENCRYPTION_KEY=$(printf '0%.0s' $(seq 64)) LOG_LEVEL=warn \
  cargo run --quiet -p suiteflow-cli -- migrate >/dev/null)

set +e
"$@"
status=$?
set -e
exit $status
