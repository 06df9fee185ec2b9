-- Each worker's heartbeat: updated every few seconds whether or not it has work, so an idle,
-- healthy worker does not look stale (`/api/health`'s workerLastRun, the console). Rows of
-- workers unseen for a day (stopped ones included) are removed by maintenance.
CREATE TABLE workers (
    -- The worker's name in events.locked_by.
    id               text PRIMARY KEY,
    host             text NOT NULL,
    started_at       timestamptz NOT NULL,
    last_seen_at     timestamptz NOT NULL DEFAULT now(),
    -- The events of the batch in hand (0: idle), and since when it is worked on.
    current_batch    integer NOT NULL DEFAULT 0 CHECK (current_batch >= 0),
    batch_started_at timestamptz,
    -- Set when the worker stopped cleanly (a `worker --once` run ends this way): not listed
    -- among the running workers, still counted for workerLastRun until it is removed.
    stopped_at       timestamptz
);

CREATE INDEX workers_last_seen_idx ON workers (last_seen_at);

-- The audit log keeps operator actions; a worker's batches were a row each. Retention now
-- covers it too.
DELETE FROM audit_log WHERE action = 'worker.completed';
CREATE INDEX audit_log_created_idx ON audit_log (created_at);
