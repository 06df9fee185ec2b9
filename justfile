# suiteflow tasks. `just demo` shows the whole pipeline; `just test` runs every test.
set shell := ["bash", "-euo", "pipefail", "-c"]

# List the recipes.
default:
    @just --list

# Run the whole suite against a private PostgreSQL started for the run (and stopped after).
test *ARGS:
    scripts/with-postgres.sh bash -c "cargo nextest run --workspace --no-fail-fast {{ARGS}} && cargo test --workspace --doc --quiet"

# Screenshots of the console's main pages into docs/, taken by the browser test (needs Debian's
# chromium and chromium-driver).
screenshots:
    scripts/with-postgres.sh bash -c "SUITEFLOW_SCREENSHOTS=$PWD/docs SUITEFLOW_REQUIRE_BROWSER=1 cargo nextest run -p suiteflow-console browser"

# Formatting, clippy (warnings are errors), unused dependencies, the schema.rs drift check and
# the deploy manifests.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    cargo machete
    if [ -x scripts/check-schema.sh ]; then scripts/check-schema.sh; fi
    scripts/check-deploy.sh

# Format every crate.
fmt:
    cargo fmt --all

# The whole pipeline on this machine, no accounts needed (`just demo --keep` leaves it running).
demo *ARGS:
    cargo build --quiet -p ingress -p worker -p suiteflow-cli -p suiteflow-test-support --bin ingress --bin worker --bin suiteflow --bin suiteflow-demo
    scripts/with-postgres.sh "${CARGO_TARGET_DIR:-target}/debug/suiteflow-demo" {{ARGS}}

# Queue throughput: enqueue (single, batched) and claim→complete with 1, 4 and 16 workers.
bench-queue:
    scripts/with-postgres.sh --durable cargo bench -p suiteflow-store --bench queue

# Signed webhooks against the ingress for 10 s: accepted/s, p50/p99, rows = 202s.
bench-ingress:
    scripts/with-postgres.sh --durable cargo run --release -p suiteflow-load --bin bench-ingress

# Records through ingress → worker → Webflow stand-in at 60 requests/min, and idle latency.
bench-sync:
    scripts/with-postgres.sh --durable cargo run --release -p suiteflow-load --bin bench-sync

# A backfill into a collection that already holds the items: 5,000 records at 60 requests/min.
bench-backfill:
    scripts/with-postgres.sh --durable cargo run --release -p suiteflow-load --bin bench-backfill

# A connection's 20,000-record backlog at 60 requests/min beside another's webhook a second: B's p99, A's drain rate and claims.
bench-fairness *ARGS:
    scripts/with-postgres.sh --durable cargo run --release -p suiteflow-load --bin bench-fairness -- {{ARGS}}

# The console's pages over 1,000,000 events: p50/p99 of each against 50 ms.
bench-console *ARGS:
    scripts/with-postgres.sh --durable cargo run --release -p suiteflow-load --bin bench-console -- {{ARGS}}

# The bad day, repeatable (loopback, bounded): worker SIGKILLs, PostgreSQL restart, Webflow 500/429 storms, SmartSuite drops; RELIABILITY.md records the table.
chaos *ARGS:
    cargo build --release --quiet -p worker -p suiteflow-load --bin worker --bin chaos
    scripts/with-postgres.sh --durable "${CARGO_TARGET_DIR:-target}/release/chaos" {{ARGS}}

# Records mapped per second (20-field mapping with expressions and templates).
bench-mapper:
    cargo bench -p suiteflow-mapper

# Fuzz each target for SECS seconds (default 60) with cargo-fuzz on nightly; not part of CI.
fuzz SECS="60":
    #!/usr/bin/env bash
    # Committed seeds and past crashes in <crate>/fuzz/corpus/<target> are replayed first; what
    # the run discovers goes to <crate>/fuzz/target/corpus/<target> (kept, not committed); a
    # crash is saved in <crate>/fuzz/artifacts/<target>/.
    set -uo pipefail
    failed=()
    for dir in crates/webhook-security/fuzz bin/ingress/fuzz crates/mapper/fuzz; do
        for target in $(cd "$dir" && cargo +nightly fuzz list); do
            echo "=== $dir: $target ({{SECS}} s)"
            dict=()
            if [ -f "$dir/$target.dict" ]; then dict=("-dict=$target.dict"); fi
            mkdir -p "$dir/target/corpus/$target"
            (cd "$dir" && cargo +nightly fuzz run "$target" "target/corpus/$target" "corpus/$target" -- \
                -max_total_time={{SECS}} -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 "${dict[@]}") \
                || failed+=("$dir: $target")
        done
    done
    if [ "${#failed[@]}" -gt 0 ]; then
        printf 'fuzz: crash in %s\n' "${failed[@]}" >&2
        exit 1
    fi
