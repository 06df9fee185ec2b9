ALTER TABLE connections DROP COLUMN sync_delay_ms;
ALTER TABLE mappings DROP COLUMN match_rule;
