DROP TABLE distributed_locks;
DROP TABLE rate_limits;
DROP TABLE audit_log;
DROP TABLE analytics_daily;
