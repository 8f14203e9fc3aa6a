-- The log's truncation floor per scope (issue 9, parts 4 and 5): the
-- highest server_seq at or below which the scope's log may have been
-- truncated. A device whose acknowledged cursor is below the floor of one
-- of its scopes cannot replay the log: Welcome.Reclone tells it to clone
-- again by snapshot. Written by log truncation; no row means 0.
CREATE TABLE IF NOT EXISTS sync_log_floor (
    scope TEXT PRIMARY KEY,
    seq   INTEGER NOT NULL
);
