DROP TRIGGER events_count_outcomes ON events;
DROP FUNCTION events_count_outcomes();
DROP TRIGGER events_outcome ON events;
DROP FUNCTION events_set_counted_as();
ALTER TABLE analytics_daily DROP COLUMN pulls;
ALTER TABLE events DROP COLUMN counted_as;
