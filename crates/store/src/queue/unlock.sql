-- Gives a claimed event back to the queue: `failed` (fail) or `queued` (release, which also
-- refunds the attempt the claim spent), fenced by the lease owner $2. A pull whose connection
-- already has another pending pull is `skipped` instead (that pull reads from the same cursor),
-- which keeps events_one_pending_pull intact.
--   $1 id, $2 worker, $3 new status ('failed' | 'queued'), $4 error (NULL keeps the old one
--   and its detail), $5 retry_after, $6 refund the attempt, $7 error_detail
WITH target AS (
    SELECT e.id,
           e.kind = 'pull' AND EXISTS (
               SELECT 1 FROM events o
               WHERE o.connection_id = e.connection_id
                 AND o.kind = 'pull'
                 AND o.status IN ('queued', 'failed')
                 AND o.id <> e.id
           ) AS superseded
    FROM events e
    WHERE e.id = $1
)
UPDATE events e
SET status = CASE WHEN t.superseded THEN 'skipped'::event_status ELSE $3::event_status END,
    error = coalesce($4, e.error),
    error_detail = CASE WHEN $4 IS NULL THEN e.error_detail ELSE $7 END,
    retry_after = $5,
    attempts = CASE WHEN $6 THEN greatest(e.attempts - 1, 0) ELSE e.attempts END,
    processed_at = CASE WHEN t.superseded THEN now() ELSE e.processed_at END,
    locked_by = NULL,
    lease_expires_at = NULL
FROM target t
WHERE e.id = t.id
  AND e.locked_by = $2
  AND e.status = 'processing'
RETURNING e.status
