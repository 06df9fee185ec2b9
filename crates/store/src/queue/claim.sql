-- Claims up to $2 events for worker $1 with a lease of $3 milliseconds, in one statement.
-- Pulls are claimed for every connection that is not archived (a paused connection's pulls
-- keep its SmartSuite webhook alive; the record events they queue wait), record events only for
-- active ones. Work is taken round-robin across connections: each connection's claimable events
-- are read in queue order (events_claim_connection_idx) and the batch takes every connection's
-- first event, then every connection's second, and so on, so one connection's backlog never
-- holds another's change back by more than one batch. Claimable are
--   * queued or failed events that are due (retry_after passed or unset) and, for a connection
--     with a sync delay, whose record has been quiet that long (the event is the record's
--     newest, so its own queued_at tells),
--   * processing events whose lease expired (their worker died or stalled);
-- never an event whose record (connection, kind, external_id) has another event in flight, and
-- a connection's `record` events only while its Webflow buckets (its token's and its own cap)
-- would grant a call: a connection whose budget is spent waits in the queue instead of being
-- claimed and put back. An event with a newer event for the same record is superseded: it
-- becomes `skipped` instead of being processed, so only the newest state of a record is
-- written. Rows another claimer holds are skipped (SKIP LOCKED). Two claimers whose snapshots
-- miss each other's claims are stopped by the unique index events_one_in_flight_per_record; the
-- loser runs the claim again.
WITH ready AS (
    SELECT c.id,
           c.sync_delay_ms,
           c.status = 'active'
               AND rate_bucket_open('webflow:' || c.webflow_token_fingerprint)
               AND rate_bucket_open('webflow-cap:' || c.id::text) AS webflow_open
    FROM connections c
    WHERE c.status <> 'archived'
),
candidates AS (
    SELECT t.id, t.seq, t.superseded,
           row_number() OVER (PARTITION BY t.connection_id ORDER BY t.seq) AS turn
    FROM ready c
    -- Each kind in its own index range, so a connection's pulls are never queued behind its
    -- record events (nor records behind pulls).
    CROSS JOIN (VALUES ('record'::event_kind), ('pull'::event_kind)) AS k(kind)
    CROSS JOIN LATERAL (
        SELECT e.id, e.seq, e.connection_id, s.superseded
        FROM events e
        CROSS JOIN LATERAL (
            SELECT EXISTS (
                SELECT 1
                FROM events newer
                WHERE newer.connection_id = e.connection_id
                  AND newer.kind = e.kind
                  AND newer.external_id = e.external_id
                  AND newer.seq > e.seq
            ) AS superseded
        ) s
        WHERE e.connection_id = c.id
          AND e.kind = k.kind
          AND (k.kind = 'pull' OR c.webflow_open)
          AND e.status IN ('queued', 'failed', 'processing')
          AND (e.status <> 'processing' OR e.lease_expires_at <= now())
          AND (
              s.superseded
              OR (
                  (e.status = 'processing' OR e.retry_after IS NULL OR e.retry_after <= now())
                  AND (c.sync_delay_ms = 0 OR e.kind = 'pull'
                       OR e.queued_at <= now() - c.sync_delay_ms * interval '1 millisecond')
                  AND NOT EXISTS (
                      SELECT 1
                      FROM events busy
                      WHERE busy.connection_id = e.connection_id
                        AND busy.kind = e.kind
                        AND busy.external_id = e.external_id
                        AND busy.status = 'processing'
                        AND busy.id <> e.id
                  )
              )
          )
        ORDER BY e.seq
        LIMIT $2
        FOR UPDATE OF e SKIP LOCKED
    ) t
),
picked AS (
    SELECT id, superseded
    FROM candidates
    ORDER BY turn, seq
    LIMIT $2
),
updated AS (
    UPDATE events e
    SET status = CASE WHEN p.superseded THEN 'skipped'::event_status
                      ELSE 'processing'::event_status END,
        attempts = e.attempts + CASE WHEN p.superseded THEN 0 ELSE 1 END,
        locked_by = CASE WHEN p.superseded THEN NULL ELSE $1 END,
        lease_expires_at = CASE WHEN p.superseded THEN NULL
                                ELSE now() + $3::float8 * interval '1 millisecond' END,
        started_at = CASE WHEN p.superseded THEN e.started_at ELSE now() END,
        processed_at = CASE WHEN p.superseded THEN now() ELSE e.processed_at END,
        retry_after = CASE WHEN p.superseded THEN e.retry_after ELSE NULL END,
        error = CASE WHEN p.superseded THEN 'superseded by a newer event for the same record'
                     ELSE e.error END
    FROM picked p
    WHERE e.id = p.id
    RETURNING e.*
)
-- Both the claimed (`processing`) and the superseded (`skipped`) rows come back: the caller
-- claims again when superseded rows used up part of the batch.
SELECT * FROM updated ORDER BY seq
