-- Why an event failed, as data: the HTTP status, the API's error code and details, and the
-- mapper's warnings (see docs/architecture.md, "Failures"). `error` keeps the text.
ALTER TABLE events ADD COLUMN error_detail jsonb;
