-- The durable work queue (docs/architecture.md, "The queue"). Claims use FOR UPDATE SKIP LOCKED plus a lease
-- (`locked_by`, `lease_expires_at`); outcomes are fenced by `locked_by`.

CREATE TYPE event_kind AS ENUM ('record', 'pull');
CREATE TYPE event_status AS ENUM ('queued', 'processing', 'success', 'failed', 'dead_letter', 'skipped');

CREATE TABLE events (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Insertion order: decides which event of a record is the newest, and claim order.
    seq               bigint GENERATED ALWAYS AS IDENTITY,
    connection_id     uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    kind              event_kind NOT NULL DEFAULT 'record',
    -- The SmartSuite record id (`record`) or SmartSuite webhook id (`pull`).
    external_id       text NOT NULL,
    event_type        text NOT NULL,
    idempotency_key   text NOT NULL,
    payload           jsonb NOT NULL DEFAULT '{}',
    payload_hash      text,
    status            event_status NOT NULL DEFAULT 'queued',
    attempts          integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    retry_after       timestamptz,
    locked_by         text,
    lease_expires_at  timestamptz,
    error             text,
    warnings          jsonb,
    partial_success   boolean NOT NULL DEFAULT false,
    webflow_item_id   text,
    webflow_response  jsonb,
    queued_at         timestamptz NOT NULL DEFAULT now(),
    started_at        timestamptz,
    processed_at      timestamptz,
    duration_ms       bigint,
    webhook_timestamp timestamptz,
    -- W3C trace context (traceparent, tracestate) of the request that enqueued the event.
    trace_context     jsonb,
    CONSTRAINT events_connection_idempotency_key UNIQUE (connection_id, idempotency_key),
    CONSTRAINT events_processing_has_lease
        CHECK (status <> 'processing' OR (locked_by IS NOT NULL AND lease_expires_at IS NOT NULL))
);

-- Serves the claim: claimable rows in queue order (finished rows are not in the index).
CREATE INDEX events_claim_idx ON events (seq)
    WHERE status IN ('queued', 'failed', 'processing');

-- Siblings of one record: "is there a newer event?"; also lists a connection's events.
-- (Every claim and outcome is a non-HOT update that writes to each index: keep them few.)
CREATE INDEX events_record_idx ON events (connection_id, kind, external_id, seq);

-- Never two events of one record in flight: the database refuses it even when two claimers
-- race on snapshots that do not see each other (the loser retries its claim).
CREATE UNIQUE INDEX events_one_in_flight_per_record ON events (connection_id, kind, external_id)
    WHERE status = 'processing';

-- At most one pending (not yet started) pull per connection: the ingress enqueues with
-- ON CONFLICT DO NOTHING and gets the pending pull's id back. A pull being processed does not
-- count, so a notification that arrives mid-pull still queues the next one.
CREATE UNIQUE INDEX events_one_pending_pull ON events (connection_id)
    WHERE kind = 'pull' AND status IN ('queued', 'failed');

-- Retention purge of finished events.
CREATE INDEX events_finished_idx ON events (processed_at)
    WHERE status IN ('success', 'skipped', 'dead_letter');
