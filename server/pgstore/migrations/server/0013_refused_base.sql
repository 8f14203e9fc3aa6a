-- The base of a refused change (server/sqlitestore/migrations
-- 0014_refused_base.sql translated; the reasons are there). NULL: refused
-- before this migration.
ALTER TABLE sync_refused ADD COLUMN base_origin BYTEA;
ALTER TABLE sync_refused ADD COLUMN base_seq BIGINT;
