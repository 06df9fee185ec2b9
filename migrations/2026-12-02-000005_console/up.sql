-- Additions only (the previous release keeps working while this one rolls out).

-- Every version of a connection's mapping, as the document a person wrote (the console shows
-- them). Kept by a trigger, so every writer of `mappings` records its version.
CREATE TABLE mapping_versions (
    connection_id uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    version       integer NOT NULL,
    document      jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, version)
);

-- A mapping row as its document: the keys without a value left out (nulls inside a key's value,
-- such as in `fieldMap`, are kept as written).
CREATE FUNCTION mapping_document(m mappings) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb)
    FROM jsonb_each(jsonb_build_object(
        'fieldMap', m.field_map,
        'slugTemplate', m.slug_template,
        'statusBehavior', m.status_behavior,
        'deleteBehavior', m.delete_behavior,
        'requiredFields', to_jsonb(m.required_fields),
        'match', m.match_rule))
    WHERE value <> 'null'::jsonb
$$;

CREATE FUNCTION record_mapping_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO mapping_versions (connection_id, version, document)
    VALUES (NEW.connection_id, NEW.version, mapping_document(NEW))
    ON CONFLICT (connection_id, version) DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER mappings_record_version
    AFTER INSERT OR UPDATE ON mappings
    FOR EACH ROW
    EXECUTE FUNCTION record_mapping_version();

-- The mappings stored before this release: their current version.
INSERT INTO mapping_versions (connection_id, version, document, created_at)
SELECT connection_id, version, mapping_document(mappings), updated_at
FROM mappings;

-- The console's event list pages newest first under its filters, and its overview counts the
-- last hour's outcomes: each served by an index, never a scan of the table. The list's indexes
-- are on `-seq` (the list orders by it), not on `seq`: the claim orders by `seq`, and must keep
-- taking its own partial indexes, never a walk of finished events through one of these.
-- Waiting and in-flight events are few and found through the claim's index; the other
-- statuses are common enough to be found by walking the list's order, except dead letters,
-- which have their own small index.
CREATE INDEX events_list_idx ON events ((-seq));
CREATE INDEX events_list_connection_idx ON events (connection_id, (-seq));
CREATE INDEX events_list_record_idx ON events (external_id, (-seq));
CREATE INDEX events_list_dead_letter_idx ON events ((-seq)) WHERE status = 'dead_letter';
CREATE INDEX events_processed_at_idx ON events (processed_at)
    WHERE processed_at IS NOT NULL;
