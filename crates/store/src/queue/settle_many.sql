-- Records the outcomes of a batch in one statement, each fenced by the lease owner $1: only
-- rows still `processing` under $1 change, so a lost lease rejects only the rows it covers
-- (they are missing from what the statement returns). Per event, from the arrays $2…$9 (one
-- element per event):
--   $2 id; $3 the status to set: 'success', 'skipped', 'dead_letter' (finished), 'failed'
--   (claimable again from retry_after) or 'queued' (released, the claim's attempt refunded);
--   $4 error (NULL on a failure or release keeps the old one and its detail; on a success
--   clears it); $5 error_detail; $6 retry_after; $7 warnings (a success's; NULL: none);
--   $8 the Webflow item; $9 Webflow's answer.
-- A pull given back to the queue while its connection has another pending pull is `skipped`
-- instead, which keeps events_one_pending_pull intact.
WITH o AS (
    SELECT *
    FROM unnest($2::uuid[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[],
                $7::jsonb[], $8::text[], $9::jsonb[])
         AS o(id, status, error, detail, retry_after, warnings, item_id, response)
),
target AS (
    SELECT o.*,
           o.status IN ('failed', 'queued') AND e.kind = 'pull' AND EXISTS (
               SELECT 1 FROM events p
               WHERE p.connection_id = e.connection_id
                 AND p.kind = 'pull'
                 AND p.status IN ('queued', 'failed')
                 AND p.id <> e.id
           ) AS superseded
    FROM o
    JOIN events e ON e.id = o.id
),
decided AS (
    SELECT t.*,
           CASE WHEN t.superseded THEN 'skipped' ELSE t.status END::event_status AS new_status,
           t.superseded OR t.status IN ('success', 'skipped', 'dead_letter') AS final
    FROM target t
)
UPDATE events e
SET status = d.new_status,
    error = CASE
        WHEN d.status = 'success' THEN NULL
        WHEN d.error IS NULL THEN e.error
        ELSE d.error END,
    error_detail = CASE
        WHEN d.status = 'success' THEN NULL
        WHEN d.error IS NULL THEN e.error_detail
        ELSE d.detail END,
    retry_after = CASE WHEN d.final THEN e.retry_after ELSE d.retry_after END,
    attempts = CASE WHEN d.status = 'queued' THEN greatest(e.attempts - 1, 0) ELSE e.attempts END,
    partial_success = CASE WHEN d.status = 'success' THEN d.warnings IS NOT NULL ELSE e.partial_success END,
    warnings = CASE WHEN d.status = 'success' THEN d.warnings ELSE e.warnings END,
    webflow_item_id = CASE WHEN d.status = 'success' THEN d.item_id ELSE e.webflow_item_id END,
    webflow_response = CASE WHEN d.status = 'success' THEN d.response ELSE e.webflow_response END,
    processed_at = CASE WHEN d.final THEN now() ELSE e.processed_at END,
    duration_ms = CASE
        WHEN d.final THEN (extract(epoch FROM (now() - e.queued_at)) * 1000)::bigint
        ELSE e.duration_ms END,
    locked_by = NULL,
    lease_expires_at = NULL
FROM decided d
WHERE e.id = d.id
  AND e.locked_by = $1
  AND e.status = 'processing'
RETURNING e.id, e.status
