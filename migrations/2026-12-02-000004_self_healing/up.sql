-- Additions only (the previous release keeps working while this one rolls out).

-- Whoever changes what the ingress caches of a connection (its status, its webhook secret and
-- scheme, its SmartSuite webhook and URL token) notifies `suiteflow_connections` with the
-- connection's id, so every ingress drops its cached copy at once. A trigger, so that no writer
-- (the CLI, the worker putting a connection in error) can forget to.
CREATE FUNCTION notify_connection_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('suiteflow_connections', coalesce(NEW.id, OLD.id)::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER connections_notify_change
    AFTER UPDATE OF status, webhook_scheme, webhook_secret_ciphertext, webhook_secret_iv,
                    smartsuite_webhook_id, smartsuite_webhook_token_hash
    ON connections
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          OR OLD.webhook_scheme IS DISTINCT FROM NEW.webhook_scheme
          OR OLD.webhook_secret_ciphertext IS DISTINCT FROM NEW.webhook_secret_ciphertext
          OR OLD.webhook_secret_iv IS DISTINCT FROM NEW.webhook_secret_iv
          OR OLD.smartsuite_webhook_id IS DISTINCT FROM NEW.smartsuite_webhook_id
          OR OLD.smartsuite_webhook_token_hash IS DISTINCT FROM NEW.smartsuite_webhook_token_hash)
    EXECUTE FUNCTION notify_connection_change();

CREATE TRIGGER connections_notify_delete
    AFTER DELETE ON connections
    FOR EACH ROW
    EXECUTE FUNCTION notify_connection_change();

-- What the last check of each connection's SmartSuite webhook found (`ok`, `disabled`:
-- notifications off, `missing`: SmartSuite deleted it, `failed`: the check itself failed),
-- when, and since when it has not been `ok` (for the alert on a long outage). Maintenance
-- checks each webhook at most every WEBHOOK_CHECK_INTERVAL_SECS.
CREATE TABLE webhook_checks (
    connection_id   uuid PRIMARY KEY REFERENCES connections (id) ON DELETE CASCADE,
    webhook_id      text NOT NULL,
    status          text NOT NULL CHECK (status IN ('ok', 'disabled', 'missing', 'failed')),
    detail          text,
    checked_at      timestamptz NOT NULL,
    unhealthy_since timestamptz
);

-- A record whose item links to a record that has no item yet: when the target's item is
-- created, the source record is queued again so the reference fills in.
CREATE TABLE pending_links (
    connection_id        uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    record_id            text NOT NULL,
    target_connection_id uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    target_record_id     text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target_connection_id, target_record_id, connection_id, record_id)
);
CREATE INDEX pending_links_source_idx ON pending_links (connection_id, record_id);

-- The files last sent for the record's item, by Webflow field: {field: [file handles]}. A write
-- whose files did not change leaves the field out, so Webflow does not fetch them again.
ALTER TABLE id_map ADD COLUMN files jsonb
    CHECK (files IS NULL OR jsonb_typeof(files) = 'object');
