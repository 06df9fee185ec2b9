-- Inserts one event, or finds the one it duplicates, in one round trip. A duplicate is an event
-- of the same connection with the same idempotency key or, for a `pull`, the connection's
-- pending pull (events_one_pending_pull). `queue::enqueue` pipelines a NOTIFY behind it.
-- Each lookup is its own scalar subquery so that each is served by its unique index, and
-- neither runs when the insert succeeded.
WITH inserted AS (
    INSERT INTO events (connection_id, kind, external_id, event_type, idempotency_key, payload,
                        payload_hash, webhook_timestamp, trace_context)
    VALUES ($1, $2::event_kind, $3, $4, $5, $6, $7, $8, $9)
    ON CONFLICT DO NOTHING
    RETURNING id
)
SELECT id, true AS inserted FROM inserted
UNION ALL
SELECT original.id, false AS inserted
FROM (
    SELECT coalesce(
        (SELECT e.id FROM events e WHERE e.connection_id = $1 AND e.idempotency_key = $5),
        (SELECT e.id FROM events e
         WHERE $2 = 'pull' AND e.connection_id = $1
           AND e.kind = 'pull' AND e.status IN ('queued', 'failed'))
    ) AS id
    WHERE NOT EXISTS (SELECT 1 FROM inserted)
) original
WHERE original.id IS NOT NULL
