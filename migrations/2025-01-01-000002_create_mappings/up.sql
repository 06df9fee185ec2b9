-- One mapping document per connection; `version` grows with every change.

CREATE TYPE delete_behavior AS ENUM ('archive', 'unpublish', 'delete');

CREATE TABLE mappings (
    connection_id   uuid PRIMARY KEY REFERENCES connections (id) ON DELETE CASCADE,
    field_map       jsonb NOT NULL CHECK (jsonb_typeof(field_map) = 'object'),
    slug_template   text,
    status_behavior jsonb,
    delete_behavior delete_behavior NOT NULL DEFAULT 'archive',
    required_fields text[] NOT NULL DEFAULT '{}',
    version         integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

SELECT diesel_manage_updated_at('mappings');
