-- Every migration keeps the previous release's binaries working, because an upgrade migrates
-- while old pods still run: tables and indexes they use are dropped one release later.

-- Rate-limit buckets keyed by what an API counts: a Webflow token (`webflow:<fingerprint>`),
-- a connection's own cap below it (`webflow-cap:<connection id>`), a SmartSuite API key
-- (`smartsuite:<fingerprint>`). A fingerprint is an HMAC of the credential under a key derived
-- from the data key: the credential itself is never stored here. Every row carries the rate
-- it was last taken at, so any query (the claim, the depth gauge) can tell whether it is open.
-- (`rate_limits`, the per-connection buckets of the previous release, is dropped next release.)
CREATE TABLE rate_buckets (
    key               text PRIMARY KEY,
    permits           numeric NOT NULL CHECK (permits >= 0),
    refilled_at       timestamptz NOT NULL,
    last_take_granted boolean NOT NULL,
    -- At most `burst` permits at once; `refill` more per `window_us` microseconds.
    burst             numeric NOT NULL CHECK (burst >= 1),
    refill            numeric NOT NULL CHECK (refill > 0),
    window_us         numeric NOT NULL CHECK (window_us > 0),
    -- The API asked every caller to wait (a 429) until then.
    paused_until      timestamptz,
    -- The limit the API announced (Webflow's X-RateLimit-Limit): the bucket follows it.
    announced_limit   integer CHECK (announced_limit > 0)
);

-- When bucket `bucket` grants its next permit: once its pause is over and one permit has
-- refilled. NULL for a bucket not taken from yet (it is full).
CREATE FUNCTION rate_bucket_opens_at(bucket text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT greatest(
               coalesce(r.paused_until, '-infinity'),
               r.refilled_at
                 + greatest(1 - r.permits, 0) * r.window_us / r.refill * interval '1 microsecond')
    FROM rate_buckets r
    WHERE r.key = bucket
$$;

-- Whether bucket `bucket` would grant a permit now.
CREATE FUNCTION rate_bucket_open(bucket text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(rate_bucket_opens_at(bucket) <= now(), true)
$$;

-- API calls per key and calendar month (UTC): SmartSuite's quota counts calls per month.
CREATE TABLE api_calls (
    key   text NOT NULL,
    month date NOT NULL CHECK (extract(day FROM month) = 1),
    calls bigint NOT NULL DEFAULT 0 CHECK (calls >= 0),
    PRIMARY KEY (key, month)
);

-- The buckets of a connection's credentials (kept current by whoever opens them).
ALTER TABLE connections
    ADD COLUMN webflow_token_fingerprint text,
    ADD COLUMN smartsuite_key_fingerprint text;

-- Public URLs of SmartSuite files by handle, until they expire (SmartSuite issues them for
-- years): a restart does not pay for them again.
CREATE TABLE file_urls (
    handle     text PRIMARY KEY,
    url        text NOT NULL,
    expires_at timestamptz NOT NULL
);

-- The claim reads each active connection's due work in queue order. (`events_claim_idx`, the
-- previous release's, is dropped next release.)
CREATE INDEX events_claim_connection_idx ON events (connection_id, kind, seq)
    WHERE status IN ('queued', 'failed', 'processing');

-- A Webflow item belongs to one record: adopting an existing item never gives it a second.
CREATE UNIQUE INDEX id_map_one_record_per_item ON id_map (connection_id, webflow_item_id)
    WHERE webflow_item_id IS NOT NULL AND state <> 'deleted';
