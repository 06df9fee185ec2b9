-- Additions only (the previous release keeps working while this one rolls out).

-- The mapping's `transliterateSlugs`: slugs spell the letters of other scripts (Cyrillic,
-- Greek, CJK, …) in Latin letters instead of dropping them. The mappings stored before this
-- release keep it off, so their items keep their slugs; a mapping inserted later is on unless
-- its writer says otherwise (the sync engine always says: the document's value, else the
-- previous version's, else on), and an update that leaves the column out keeps it.
ALTER TABLE mappings ADD COLUMN transliterate_slugs boolean NOT NULL DEFAULT false;
ALTER TABLE mappings ALTER COLUMN transliterate_slugs SET DEFAULT true;

-- A mapping row as its document, now with `transliterateSlugs`. The versions recorded before
-- this release have no such key, which reads as off, as they were.
CREATE OR REPLACE FUNCTION mapping_document(m mappings) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb)
    FROM jsonb_each(jsonb_build_object(
        'fieldMap', m.field_map,
        'slugTemplate', m.slug_template,
        'transliterateSlugs', m.transliterate_slugs,
        'statusBehavior', m.status_behavior,
        'deleteBehavior', m.delete_behavior,
        'requiredFields', to_jsonb(m.required_fields),
        'match', m.match_rule))
    WHERE value <> 'null'::jsonb
$$;
