-- The record's own clock: the SmartSuite last-modified time (`last_updated.on`) of the state
-- last written to the record's item. A push or pull whose record is older than this is not
-- written (it would roll the item back). NULL: not known (written before this column, or from
-- a payload without the time).
ALTER TABLE id_map ADD COLUMN source_modified_at timestamptz;
