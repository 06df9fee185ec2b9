-- How a record without an id map entry finds the Webflow item that already holds it: the
-- mapping's `match` ({"on": "slug"} when NULL, {"on": "field", …} or {"on": "none"}).
ALTER TABLE mappings ADD COLUMN match_rule jsonb
    CHECK (match_rule IS NULL OR jsonb_typeof(match_rule) = 'object');

-- A record's event is claimed only once the record's newest event is this old, so a burst of
-- saves becomes one write (0: at once).
ALTER TABLE connections ADD COLUMN sync_delay_ms integer NOT NULL DEFAULT 0
    CHECK (sync_delay_ms BETWEEN 0 AND 3600000);
