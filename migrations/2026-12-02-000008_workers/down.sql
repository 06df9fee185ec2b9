DROP INDEX audit_log_created_idx;
DROP TABLE workers;
