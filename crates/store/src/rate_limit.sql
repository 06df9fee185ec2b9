-- Takes $2 permits from bucket $1 in one atomic statement: the row lock of the upsert serialises
-- concurrent takers across processes. The bucket holds at most `burst` permits and gains
-- `limit + 1 - burst` per window of $4 microseconds, refilled from the time elapsed since the
-- last take (the bucket's clock never goes backwards). The limit is $3 with a burst of $5,
-- unless $6 asks to follow the limit the API announced (then the burst is a tenth of it). A
-- paused bucket grants nothing until its pause ends. A refused take changes nothing but the
-- refill and answers when the take can succeed.
WITH announced AS (
    SELECT CASE WHEN $6 THEN (SELECT announced_limit FROM rate_buckets WHERE key = $1) END AS lim
),
rate AS (
    SELECT coalesce(a.lim::numeric, $3::numeric) AS lim,
           CASE WHEN a.lim IS NULL THEN $5::numeric
                ELSE greatest(1, floor(a.lim::numeric / 10)) END AS burst
    FROM announced a
)
INSERT INTO rate_buckets AS r
    (key, permits, refilled_at, last_take_granted, burst, refill, window_us)
SELECT $1, rate.burst - $2::numeric, clock_timestamp(), true, rate.burst,
       rate.lim + 1 - rate.burst, $4::numeric
FROM rate
ON CONFLICT (key) DO UPDATE
SET permits = CASE
        WHEN least(excluded.burst, r.permits + excluded.refill * (extract(epoch FROM greatest(excluded.refilled_at - r.refilled_at, interval '0')) * 1000000) / excluded.window_us) >= $2::numeric
             AND (r.paused_until IS NULL OR r.paused_until <= excluded.refilled_at)
        THEN least(excluded.burst, r.permits + excluded.refill * (extract(epoch FROM greatest(excluded.refilled_at - r.refilled_at, interval '0')) * 1000000) / excluded.window_us) - $2::numeric
        ELSE least(excluded.burst, r.permits + excluded.refill * (extract(epoch FROM greatest(excluded.refilled_at - r.refilled_at, interval '0')) * 1000000) / excluded.window_us)
    END,
    refilled_at = greatest(r.refilled_at, excluded.refilled_at),
    last_take_granted =
        least(excluded.burst, r.permits + excluded.refill * (extract(epoch FROM greatest(excluded.refilled_at - r.refilled_at, interval '0')) * 1000000) / excluded.window_us) >= $2::numeric
        AND (r.paused_until IS NULL OR r.paused_until <= excluded.refilled_at),
    burst = excluded.burst,
    refill = excluded.refill,
    window_us = excluded.window_us
RETURNING last_take_granted AS granted,
          refilled_at AS at,
          CASE WHEN last_take_granted THEN refilled_at
               ELSE greatest(
                   coalesce(paused_until, refilled_at),
                   refilled_at + ceil(greatest($2::numeric - permits, 0) * window_us / refill)
                       * interval '1 microsecond')
          END AS retry_at
