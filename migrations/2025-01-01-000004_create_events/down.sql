DROP TABLE events;
DROP TYPE event_status;
DROP TYPE event_kind;
