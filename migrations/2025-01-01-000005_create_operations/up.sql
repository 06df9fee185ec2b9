-- Operational tables: daily analytics, audit log, shared rate-limit buckets, lease-based locks.

CREATE TABLE analytics_daily (
    connection_id  uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    day            date NOT NULL,
    events_received integer NOT NULL DEFAULT 0,
    succeeded      integer NOT NULL DEFAULT 0,
    failed         integer NOT NULL DEFAULT 0,
    dead_lettered  integer NOT NULL DEFAULT 0,
    skipped        integer NOT NULL DEFAULT 0,
    webflow_calls  integer NOT NULL DEFAULT 0,
    total_duration_ms bigint NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, day)
);

SELECT diesel_manage_updated_at('analytics_daily');

CREATE TABLE audit_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- Who: an operator, a process ("worker:<id>"), the CLI.
    actor         text NOT NULL,
    -- What, dotted: "connection.created", "worker.completed", "events.replayed", ...
    action        text NOT NULL,
    -- Audit entries outlive the connection they are about.
    connection_id uuid REFERENCES connections (id) ON DELETE SET NULL,
    details       jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_log_action_created_idx ON audit_log (action, created_at DESC);
CREATE INDEX audit_log_connection_created_idx ON audit_log (connection_id, created_at DESC)
    WHERE connection_id IS NOT NULL;

-- Shared rate-limit buckets (one per connection and bucket name), refilled from elapsed time.
CREATE TABLE rate_limits (
    connection_id     uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    bucket            text NOT NULL,
    tokens            numeric NOT NULL CHECK (tokens >= 0),
    refilled_at       timestamptz NOT NULL,
    last_take_granted boolean NOT NULL,
    PRIMARY KEY (connection_id, bucket)
);

-- Lease-based locks for singleton jobs (keep-alive, retention).
CREATE TABLE distributed_locks (
    name        text PRIMARY KEY,
    holder      text NOT NULL,
    acquired_at timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
