-- The queue's two figures over the waiting events (queued or failed) of active connections,
-- and the pulls of paused connections and connections in error (claimed too: see claim.sql):
-- `depth` counts those a worker could claim now (due: no `retry_after`, or one that has passed;
-- past its connection's sync delay; and, for a record event, its connection's Webflow budget
-- open; an event rescheduled after a 429 or a connection failure is queued but not yet due), the
-- same set KEDA scales the worker on (deploy/k8s/base/worker-keda.yaml; a test runs that query
-- against this one); `oldest_ms` is the age of the oldest waiting event, retries included, so
-- an event failing through an outage keeps the figure growing.
-- Each connection's budget is read once (MATERIALIZED), not once per waiting event.
WITH c AS MATERIALIZED (
    SELECT id, status, sync_delay_ms,
           rate_bucket_open('webflow:' || webflow_token_fingerprint)
               AND rate_bucket_open('webflow-cap:' || id::text) AS budget_open
    FROM connections
    WHERE status <> 'archived'
)
SELECT count(*) FILTER (
           WHERE (e.retry_after IS NULL OR e.retry_after <= now())
             AND (c.sync_delay_ms = 0 OR e.kind = 'pull'
                  OR e.queued_at <= now() - c.sync_delay_ms * interval '1 millisecond')
             AND (e.kind = 'pull' OR c.budget_open)
       ) AS depth,
       (extract(epoch FROM now() - min(e.queued_at)) * 1000)::bigint AS oldest_ms
FROM events e
JOIN c ON c.id = e.connection_id
WHERE (c.status = 'active' OR e.kind = 'pull')
  AND e.status IN ('queued', 'failed')
