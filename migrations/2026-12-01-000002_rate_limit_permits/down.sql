ALTER TABLE rate_limits RENAME COLUMN permits TO tokens;
