-- Collection of the log (issue 9 part 5). sync_log_floor is the contract
-- with the snapshot clone (migration 0005 creates it there; IF NOT EXISTS
-- keeps the two independent): per scope, the highest seq collection removed
-- that a device behind might still have needed. A device whose cursor is
-- below the floor of one of its scopes re-clones (Welcome.Reclone).
CREATE TABLE IF NOT EXISTS sync_log_floor (
    scope TEXT PRIMARY KEY,
    seq   INTEGER NOT NULL
);
