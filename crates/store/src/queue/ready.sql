-- The events a worker could claim now, on active connections: queued, or failed and due for a
-- retry. The same set KEDA counts to scale the worker (deploy/k8s/base/worker-keda.yaml; a test
-- runs that query against this one).
SELECT count(*) AS depth,
       (extract(epoch FROM now() - min(e.queued_at)) * 1000)::bigint AS oldest_ms
FROM events e
JOIN connections c ON c.id = e.connection_id
WHERE c.status = 'active'
  AND (e.status = 'queued'
       OR (e.status = 'failed' AND (e.retry_after IS NULL OR e.retry_after <= now())))
