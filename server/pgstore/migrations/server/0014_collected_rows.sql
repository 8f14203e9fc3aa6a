-- The ids of the rows collection removed (server/sqlitestore/migrations
-- 0015_collected_rows.sql translated; the reasons are there).
CREATE TABLE sync_collected (
    tbl TEXT NOT NULL,
    row BYTEA NOT NULL,
    PRIMARY KEY (row, tbl)
);
