# suiteflow tasks. `just demo` shows the whole pipeline; `just test` runs every test.
set shell := ["bash", "-euo", "pipefail", "-c"]

# List the recipes.
default:
    @just --list

# Run the whole suite against a private PostgreSQL started for the run (and stopped after).
test *ARGS:
    scripts/with-postgres.sh bash -c "cargo nextest run --workspace --no-fail-fast {{ARGS}} && cargo test --workspace --doc --quiet"

# Formatting, clippy (warnings are errors) and the schema.rs drift check.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
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

# The bad day, repeatable (loopback, bounded): worker SIGKILLs, PostgreSQL restart, Webflow 500/429 storms, SmartSuite drops; RELIABILITY.md records the table.
chaos *ARGS:
    cargo build --release --quiet -p worker -p suiteflow-load --bin worker --bin chaos
    scripts/with-postgres.sh --durable "${CARGO_TARGET_DIR:-target}/release/chaos" {{ARGS}}

# Records mapped per second (20-field mapping with expressions and templates).
bench-mapper:
    cargo bench -p suiteflow-mapper
