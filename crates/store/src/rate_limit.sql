-- Takes $4::numeric permits from bucket ($1, $2) in one atomic statement: the row lock of the upsert
-- serialises concurrent takers across processes. The bucket holds at most $3::numeric permits and gains
-- $5::numeric permits per window of $6::numeric microseconds, refilled from the time elapsed since the last take
-- (the bucket's clock never goes backwards). A refused take changes nothing but the refill and
-- answers when enough permits will be there.
INSERT INTO rate_limits AS r (connection_id, bucket, permits, refilled_at, last_take_granted)
VALUES ($1, $2, $3::numeric - $4::numeric, clock_timestamp(), true)
ON CONFLICT (connection_id, bucket) DO UPDATE
SET permits = CASE
        WHEN least($3::numeric, r.permits + $5::numeric * (extract(epoch FROM greatest(excluded.refilled_at - r.refilled_at, interval '0')) * 1000000) / $6::numeric) >= $4::numeric
        THEN least($3::numeric, r.permits + $5::numeric * (extract(epoch FROM greatest(excluded.refilled_at - r.refilled_at, interval '0')) * 1000000) / $6::numeric) - $4::numeric
        ELSE least($3::numeric, r.permits + $5::numeric * (extract(epoch FROM greatest(excluded.refilled_at - r.refilled_at, interval '0')) * 1000000) / $6::numeric)
    END,
    refilled_at = greatest(r.refilled_at, excluded.refilled_at),
    last_take_granted =
        least($3::numeric, r.permits + $5::numeric * (extract(epoch FROM greatest(excluded.refilled_at - r.refilled_at, interval '0')) * 1000000) / $6::numeric) >= $4::numeric
RETURNING last_take_granted AS granted,
          refilled_at AS at,
          CASE WHEN last_take_granted THEN refilled_at
               ELSE refilled_at + ceil(($4::numeric - permits) * $6::numeric / $5::numeric) * interval '1 microsecond'
          END AS retry_at
