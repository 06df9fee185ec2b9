ALTER TABLE id_map DROP COLUMN files;
DROP TABLE pending_links;
DROP TABLE webhook_checks;
DROP TRIGGER connections_notify_delete ON connections;
DROP TRIGGER connections_notify_change ON connections;
DROP FUNCTION notify_connection_change();
