-- Scope history (issue 9 part 1): when a row left a hamlet and when a
-- team's hamlets changed, so a change pushed to a row now outside the
-- device's scope can be judged by where the row was when the change was
-- made (its HLC): accepted if it was in scope then, refused with a reason
-- that names the move otherwise.

-- One row per row that moved between hamlets: a household and each of its
-- children. hlc is the HLC of the change that moved the household;
-- server_seq the eviction logged under from_scope.
CREATE TABLE scope_moves (
    id         INTEGER PRIMARY KEY,
    tbl        TEXT NOT NULL,
    row        BLOB NOT NULL,
    household  BLOB NOT NULL,
    from_scope TEXT NOT NULL,
    to_scope   TEXT NOT NULL,
    hlc        INTEGER NOT NULL,
    server_seq INTEGER NOT NULL,
    at_ms      INTEGER NOT NULL
);
CREATE INDEX scope_moves_row ON scope_moves (row);

-- One row per hamlet added to or removed from a team; hlc is the
-- server's clock when the operator made the change.
CREATE TABLE team_scope_log (
    id      INTEGER PRIMARY KEY,
    team_id TEXT NOT NULL,
    hamlet  TEXT NOT NULL,
    added   INTEGER NOT NULL,
    hlc     INTEGER NOT NULL,
    at_ms   INTEGER NOT NULL
);
CREATE INDEX team_scope_log_team ON team_scope_log (team_id, hamlet);
