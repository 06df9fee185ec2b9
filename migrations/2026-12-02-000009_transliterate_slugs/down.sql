CREATE OR REPLACE FUNCTION mapping_document(m mappings) RETURNS jsonb
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
ALTER TABLE mappings DROP COLUMN transliterate_slugs;
