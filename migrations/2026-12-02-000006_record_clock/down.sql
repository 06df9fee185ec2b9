ALTER TABLE id_map DROP COLUMN source_modified_at;
