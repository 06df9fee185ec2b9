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

CREATE FUNCTION record_mapping_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO mapping_versions (connection_id, version, document)
    VALUES (NEW.connection_id, NEW.version, jsonb_strip_nulls(jsonb_build_object(
        'fieldMap', NEW.field_map,
        'slugTemplate', NEW.slug_template,
        'statusBehavior', NEW.status_behavior,
        'deleteBehavior', NEW.delete_behavior,
        'requiredFields', to_jsonb(NEW.required_fields),
        'match', NEW.match_rule)))
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
SELECT connection_id, version, jsonb_strip_nulls(jsonb_build_object(
           'fieldMap', field_map,
           'slugTemplate', slug_template,
           'statusBehavior', status_behavior,
           'deleteBehavior', delete_behavior,
           'requiredFields', to_jsonb(required_fields),
           'match', match_rule)),
       updated_at
FROM mappings;

-- The console's event list pages by `seq` (newest first) under its filters, and its overview
-- counts the last hour's outcomes: each served by an index, never a scan of the table.
CREATE INDEX events_connection_seq_idx ON events (connection_id, seq);
CREATE INDEX events_external_seq_idx ON events (external_id, seq);
-- The statuses an operator looks for are rare; the common ones are found by walking `seq`.
CREATE INDEX events_attention_seq_idx ON events (status, seq)
    WHERE status IN ('failed', 'dead_letter', 'processing');
CREATE INDEX events_processed_at_idx ON events (processed_at)
    WHERE processed_at IS NOT NULL;
