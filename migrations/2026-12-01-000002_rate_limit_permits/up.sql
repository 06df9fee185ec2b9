-- A bucket holds permits to call an API; "token" is kept for the API credentials.
ALTER TABLE rate_limits RENAME COLUMN tokens TO permits;
