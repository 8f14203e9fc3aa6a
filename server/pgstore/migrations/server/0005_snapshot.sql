-- The log's truncation floor per scope (server/migrations/sqlite
-- 0005_snapshot.sql translated). No row means 0.
CREATE TABLE IF NOT EXISTS sync_log_floor (
    scope TEXT PRIMARY KEY,
    seq   BIGINT NOT NULL
);
