DROP TABLE connections;
DROP TYPE webhook_scheme;
DROP TYPE connection_status;
