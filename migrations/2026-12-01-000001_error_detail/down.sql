ALTER TABLE events DROP COLUMN error_detail;
