-- Connections: one SmartSuite table synced to one Webflow collection.
-- Secrets are AES-256-GCM sealed by the application: base64 ciphertext + base64 12-byte IV per
-- secret, with `encryption_key_id` naming the data key that sealed them (key rotation).

CREATE TYPE connection_status AS ENUM ('active', 'paused', 'error', 'archived');
CREATE TYPE webhook_scheme AS ENUM ('hmac', 'standard');

CREATE TABLE connections (
    id                               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                             text NOT NULL CHECK (name <> ''),
    status                           connection_status NOT NULL DEFAULT 'active',
    smartsuite_account_id            text NOT NULL,
    smartsuite_table_id              text NOT NULL,
    smartsuite_solution_id           text,
    smartsuite_api_key_ciphertext    text NOT NULL,
    smartsuite_api_key_iv            text NOT NULL,
    webflow_site_id                  text NOT NULL,
    webflow_collection_id            text NOT NULL,
    webflow_token_ciphertext         text NOT NULL,
    webflow_token_iv                 text NOT NULL,
    webhook_scheme                   webhook_scheme NOT NULL DEFAULT 'hmac',
    webhook_secret_ciphertext        text NOT NULL,
    webhook_secret_iv                text NOT NULL,
    encryption_key_id                text NOT NULL,
    -- SmartSuite's own (notify-then-pull) webhook, once registered.
    smartsuite_webhook_id            text,
    -- SHA-256 (lowercase hex) of the secret token in the notification URL; never the token.
    smartsuite_webhook_token_hash    text CHECK (smartsuite_webhook_token_hash ~ '^[0-9a-f]{64}$'),
    smartsuite_events_cursor         text,
    smartsuite_webhook_kept_alive_at timestamptz,
    rate_limit_per_min               integer NOT NULL DEFAULT 50 CHECK (rate_limit_per_min BETWEEN 1 AND 1000),
    max_retries                      integer NOT NULL DEFAULT 5 CHECK (max_retries BETWEEN 0 AND 50),
    retry_backoff_ms                 integer NOT NULL DEFAULT 1000 CHECK (retry_backoff_ms BETWEEN 1 AND 3600000),
    -- Health.
    last_success_at                  timestamptz,
    last_error_at                    timestamptz,
    last_error_message               text,
    consecutive_errors               integer NOT NULL DEFAULT 0 CHECK (consecutive_errors >= 0),
    created_at                       timestamptz NOT NULL DEFAULT now(),
    updated_at                       timestamptz NOT NULL DEFAULT now()
);

SELECT diesel_manage_updated_at('connections');

-- The SmartSuite notification route looks a connection up by its registered webhook.
CREATE UNIQUE INDEX connections_smartsuite_webhook_id_key
    ON connections (smartsuite_webhook_id) WHERE smartsuite_webhook_id IS NOT NULL;
-- Health checks count connections by status.
CREATE INDEX connections_status_idx ON connections (status);
