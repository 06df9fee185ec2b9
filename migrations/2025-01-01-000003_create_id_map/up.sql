-- External record -> Webflow item. A create first records intent (`creating` + slug) so that a
-- create whose outcome is unknown can be resolved by looking the slug up.

CREATE TYPE id_map_state AS ENUM ('creating', 'synced', 'deleted');

CREATE TABLE id_map (
    connection_id   uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    external_source text NOT NULL DEFAULT 'smartsuite',
    external_id     text NOT NULL,
    webflow_item_id text,
    slug            text,
    state           id_map_state NOT NULL,
    -- SHA-256 hex of the last fieldData sent, to skip no-op writes.
    field_data_hash text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, external_source, external_id),
    CHECK (state = 'creating' OR webflow_item_id IS NOT NULL)
);

SELECT diesel_manage_updated_at('id_map');

-- Reverse look-ups (a Webflow item back to its record) and reference resolution.
CREATE INDEX id_map_webflow_item_idx ON id_map (connection_id, webflow_item_id)
    WHERE webflow_item_id IS NOT NULL;
