DROP INDEX events_processed_at_idx;
DROP INDEX events_list_dead_letter_idx;
DROP INDEX events_list_record_idx;
DROP INDEX events_list_connection_idx;
DROP INDEX events_list_idx;
DROP TRIGGER mappings_record_version ON mappings;
DROP FUNCTION record_mapping_version();
DROP FUNCTION mapping_document(mappings);
DROP TABLE mapping_versions;
