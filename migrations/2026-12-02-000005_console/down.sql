DROP INDEX events_processed_at_idx;
DROP INDEX events_attention_seq_idx;
DROP INDEX events_external_seq_idx;
DROP INDEX events_connection_seq_idx;
DROP TRIGGER mappings_record_version ON mappings;
DROP FUNCTION record_mapping_version();
DROP TABLE mapping_versions;
