#!/usr/bin/env bash
# A validating Webflow mock (Stoplight Prism) for the webflow-client contract test.
#
#   scripts/prism.sh install          install @stoplight/prism-cli into .prism/ (once)
#   scripts/prism.sh start [SPEC]     start on a free 127.0.0.1 port; prints the base URL
#   scripts/prism.sh stop [URL|PORT]  stop the mock(s) this script started (all when no arg)
#
# The default spec is crates/webflow-client/tests/data/openapi.mock.yaml (Webflow's official v2
# OpenAPI spec with mechanical fixes so that Prism can serve it). Routes sit at the root
# (no /v2). Findings about a request come back in the `sl-violations` response header.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR="$ROOT/.prism"
BIN="$DIR/node_modules/.bin/prism"
VERSION="${PRISM_VERSION:-5.14.2}"
SPEC_DEFAULT="$ROOT/crates/webflow-client/tests/data/openapi.mock.yaml"

die() { echo "prism.sh: $*" >&2; exit 1; }

install() {
  [ -x "$BIN" ] && return 0
  command -v npm >/dev/null || die "npm is not installed (Node 20 is needed for Prism)"
  mkdir -p "$DIR"
  [ -f "$DIR/package.json" ] || echo '{"name":"suiteflow-prism","private":true}' > "$DIR/package.json"
  echo "prism.sh: installing @stoplight/prism-cli@$VERSION into $DIR" >&2
  npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error "@stoplight/prism-cli@$VERSION" >&2 \
    || die "npm install @stoplight/prism-cli failed"
  [ -x "$BIN" ] || die "prism binary missing after install"
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

start() {
  local spec="${1:-$SPEC_DEFAULT}"
  [ -f "$spec" ] || die "spec not found: $spec"
  install
  local port pid log
  for _ in 1 2 3; do
    port=$(free_port)
    log="$DIR/prism-$port.log"
    nohup "$BIN" mock "$spec" -h 127.0.0.1 -p "$port" >"$log" 2>&1 &
    pid=$!
    echo "$pid" >"$DIR/prism-$port.pid"
    for _ in $(seq 1 240); do       # up to 60 s: loading the 3 MB spec takes a while
      if grep -q "Prism is listening" "$log" 2>/dev/null; then
        echo "http://127.0.0.1:$port"
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    kill "$pid" 2>/dev/null || true
    rm -f "$DIR/prism-$port.pid"
  done
  tail -20 "$log" >&2 || true
  die "Prism did not start"
}

stop_one() {
  local pidfile="$1" pid
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

stop() {
  local arg="${1:-}"
  if [ -n "$arg" ]; then
    local port="${arg##*:}"
    port="${port%%/*}"
    stop_one "$DIR/prism-$port.pid"
  else
    for f in "$DIR"/prism-*.pid; do [ -e "$f" ] && stop_one "$f"; done
  fi
  return 0
}

case "${1:-}" in
  install) install ;;
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) echo "usage: $0 install | start [SPEC] | stop [URL|PORT]" >&2; exit 2 ;;
esac
