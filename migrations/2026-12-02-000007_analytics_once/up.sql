-- analytics_daily counts each event once, in the outcome it has now, on the day it was
-- received (its queued_at, UTC): an event that fails, is retried and then succeeds moves from
-- `failed` to `succeeded`; a 429 that puts it back in the queue counts nothing; a dead letter
-- replayed and then written moves to `succeeded`. So on every day's row
-- events_received = succeeded + failed + dead_lettered + skipped, and `failed` is what still
-- waits for a retry. Pulls are counted apart, once each, in `pulls`.
--
-- Two triggers keep it, so every path that finishes an event (the worker's batch settle, a
-- claim that supersedes, a pull's own transaction, an operator's replay) counts the same way:
--   * events_outcome (BEFORE UPDATE, per row, only when the status becomes an outcome) sets
--     `counted_as`, the outcome the event is counted under;
--   * events_count_outcomes (AFTER UPDATE, per statement) adds, per connection and day, the
--     moves from each row's old `counted_as` to its new one, in one upsert per statement.

ALTER TABLE events ADD COLUMN counted_as event_status
    CHECK (counted_as IS NULL OR counted_as IN ('success', 'failed', 'dead_letter', 'skipped'));
COMMENT ON COLUMN events.counted_as IS
    'The outcome analytics_daily counts this event under (NULL: none yet); kept by a trigger';

ALTER TABLE analytics_daily ADD COLUMN pulls integer NOT NULL DEFAULT 0;

-- The code before this migration counted an event as received when it was first processed,
-- and once per failed attempt, on the day of processing. Marked here are the events that can
-- still change: those waiting for a retry or replayable from a dead letter, and those back in
-- the queue or in flight after an attempt, so none is counted as received a second time.
-- Finished successes and skips are left unmarked rather than rewrite every finished event: one
-- an operator replays is counted as received again. The identity above holds for the days
-- from this migration on. While workers of the previous release still run (a rolling deploy
-- migrates first), the events they finish are counted twice: by them and by the triggers.
UPDATE events SET counted_as = status
WHERE status IN ('failed', 'dead_letter');
UPDATE events SET counted_as = 'failed'
WHERE status IN ('queued', 'processing') AND attempts > 0 AND error IS NOT NULL;

CREATE FUNCTION events_set_counted_as() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.counted_as := NEW.status;
    RETURN NEW;
END
$$;

CREATE TRIGGER events_outcome
    BEFORE UPDATE OF status ON events
    FOR EACH ROW
    WHEN (NEW.status IN ('success', 'failed', 'dead_letter', 'skipped')
          AND NEW.counted_as IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION events_set_counted_as();

CREATE FUNCTION events_count_outcomes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Per connection and day, what the statement moved: from each row's old outcome to its new
    -- one, and total_duration_ms as the sum of the current duration_ms of the events counted
    -- as succeeded (a replay clears a success's duration; its next success adds the new one).
    -- Ordered by key, so two statements counting for the same connections lock their rows in
    -- the same order.
    INSERT INTO analytics_daily AS a (connection_id, day, events_received, succeeded, failed,
                                      dead_lettered, skipped, pulls, total_duration_ms)
    SELECT n.connection_id,
           (n.queued_at AT TIME ZONE 'UTC')::date,
           count(*) FILTER (WHERE n.kind = 'record' AND o.counted_as IS NULL
                              AND n.counted_as IS NOT NULL),
           count(*) FILTER (WHERE n.kind = 'record' AND n.counted_as = 'success')
             - count(*) FILTER (WHERE n.kind = 'record' AND o.counted_as = 'success'),
           count(*) FILTER (WHERE n.kind = 'record' AND n.counted_as = 'failed')
             - count(*) FILTER (WHERE n.kind = 'record' AND o.counted_as = 'failed'),
           count(*) FILTER (WHERE n.kind = 'record' AND n.counted_as = 'dead_letter')
             - count(*) FILTER (WHERE n.kind = 'record' AND o.counted_as = 'dead_letter'),
           count(*) FILTER (WHERE n.kind = 'record' AND n.counted_as = 'skipped')
             - count(*) FILTER (WHERE n.kind = 'record' AND o.counted_as = 'skipped'),
           count(*) FILTER (WHERE n.kind = 'pull' AND o.counted_as IS NULL
                              AND n.counted_as IS NOT NULL),
           coalesce(sum(n.duration_ms) FILTER (WHERE n.kind = 'record'
                                                 AND n.counted_as = 'success'), 0)
             - coalesce(sum(o.duration_ms) FILTER (WHERE n.kind = 'record'
                                                     AND o.counted_as = 'success'), 0)
    FROM new_rows n
    JOIN old_rows o ON o.id = n.id
    WHERE n.counted_as IS DISTINCT FROM o.counted_as
       OR ('success' IN (n.counted_as, o.counted_as)
           AND n.duration_ms IS DISTINCT FROM o.duration_ms)
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (connection_id, day) DO UPDATE
    SET events_received = a.events_received + excluded.events_received,
        succeeded = a.succeeded + excluded.succeeded,
        failed = a.failed + excluded.failed,
        dead_lettered = a.dead_lettered + excluded.dead_lettered,
        skipped = a.skipped + excluded.skipped,
        pulls = a.pulls + excluded.pulls,
        total_duration_ms = a.total_duration_ms + excluded.total_duration_ms;
    RETURN NULL;
END
$$;

CREATE TRIGGER events_count_outcomes
    AFTER UPDATE ON events
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION events_count_outcomes();
