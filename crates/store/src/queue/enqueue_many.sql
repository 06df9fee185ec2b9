-- Inserts many events in one statement (arrays, one element per event). Returns one row per
-- input, in input order: the id it inserted, or else the id of the event it duplicates as seen
-- by this statement's snapshot (NULL when the original is not visible yet; the caller resolves
-- those).
WITH input AS (
    SELECT *
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[],
                $7::text[], $8::timestamptz[], $9::jsonb[])
         WITH ORDINALITY AS i(connection_id, kind, external_id, event_type, idempotency_key,
                              payload, payload_hash, webhook_timestamp, trace_context, ord)
),
inserted AS (
    INSERT INTO events (connection_id, kind, external_id, event_type, idempotency_key, payload,
                        payload_hash, webhook_timestamp, trace_context)
    SELECT connection_id, kind::event_kind, external_id, event_type, idempotency_key, payload,
           payload_hash, webhook_timestamp, trace_context
    FROM input
    ORDER BY ord
    ON CONFLICT DO NOTHING
    RETURNING id, connection_id, idempotency_key
)
SELECT i.ord AS ord,
       ins.id AS inserted_id,
       -- Looked up only for inputs that inserted nothing; each lookup has its unique index.
       CASE WHEN ins.id IS NULL THEN coalesce(
           (SELECT e.id FROM events e
            WHERE e.connection_id = i.connection_id AND e.idempotency_key = i.idempotency_key),
           (SELECT e.id FROM events e
            WHERE i.kind = 'pull' AND e.connection_id = i.connection_id
              AND e.kind = 'pull' AND e.status IN ('queued', 'failed'))
       ) END AS original_id
FROM input i
LEFT JOIN inserted ins
       ON ins.connection_id = i.connection_id AND ins.idempotency_key = i.idempotency_key
ORDER BY i.ord
