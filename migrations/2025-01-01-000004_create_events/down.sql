DROP TABLE events;
DROP FUNCTION events_notify_inserted();
DROP TYPE event_status;
DROP TYPE event_kind;
