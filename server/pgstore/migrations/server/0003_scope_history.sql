-- Scope history (server/migrations/sqlite 0003_scope_history.sql
-- translated): row moves between hamlets and team hamlet changes.

CREATE TABLE scope_moves (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tbl        TEXT NOT NULL,
    row        BYTEA NOT NULL,
    household  BYTEA NOT NULL,
    from_scope TEXT NOT NULL,
    to_scope   TEXT NOT NULL,
    hlc        BIGINT NOT NULL,
    server_seq BIGINT NOT NULL,
    at_ms      BIGINT NOT NULL
);
CREATE INDEX scope_moves_row ON scope_moves (row);

CREATE TABLE team_scope_log (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id TEXT NOT NULL,
    hamlet  TEXT NOT NULL,
    added   BOOLEAN NOT NULL,
    hlc     BIGINT NOT NULL,
    at_ms   BIGINT NOT NULL
);
CREATE INDEX team_scope_log_team ON team_scope_log (team_id, hamlet);
