-- The sync server's own tables, recorded as migration set "server" beside
-- the data model's set "schema" (teams, members, admin units, row tables).

CREATE TABLE server_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Replicas get a small integer so log and version rows stay narrow.
-- max_seq is the highest origin sequence the server holds from the replica:
-- refused changes advance it too, so a refusal never leaves a gap.
CREATE TABLE replicas (
    idx     INTEGER PRIMARY KEY,
    id      BLOB NOT NULL UNIQUE,
    max_seq INTEGER NOT NULL DEFAULT 0
);

-- Tokens are 32 random bytes: SHA-256 of them is enough (nothing to
-- brute-force, so no slow password hash is needed).
CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    member_id    TEXT NOT NULL,
    replica_id   BLOB NOT NULL,
    label        TEXT NOT NULL,
    client       TEXT NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE,
    created_ms   INTEGER NOT NULL,
    revoked_ms   INTEGER,
    last_seen_ms INTEGER,
    cursor       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX devices_member ON devices (member_id);

CREATE TABLE enroll_codes (
    hash       BLOB PRIMARY KEY,
    member_id  TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    used_ms    INTEGER,
    device_id  TEXT
);

-- One row per synced row: its scope (hamlet), parent household, tombstone,
-- and the winning version of every field as one msgpack blob (field ->
-- kind, value, HLC, dot, base; see versions.go). One blob per row instead of
-- one row per field: a batch writes each touched row once.
CREATE TABLE sync_rows (
    tbl      TEXT NOT NULL,
    row      BLOB NOT NULL,
    scope    TEXT NOT NULL,
    parent   BLOB,
    deleted  INTEGER NOT NULL DEFAULT 0,
    tomb_seq INTEGER NOT NULL DEFAULT 0,
    versions BLOB NOT NULL,
    PRIMARY KEY (tbl, row)
) WITHOUT ROWID;
CREATE INDEX sync_rows_parent ON sync_rows (parent) WHERE parent IS NOT NULL;
CREATE INDEX sync_rows_deleted ON sync_rows (scope) WHERE deleted = 1;

-- Value columns have no declared type on purpose: that gives them BLOB
-- affinity, which keeps every value exactly as written ("ANY" would mean
-- NUMERIC affinity and turn the phone "0912345678" into 912345678).

-- The log every pull reads: seq is the global server_seq. kind 0 is a field
-- change, 1 an eviction (the row left scope for new_scope).
CREATE TABLE sync_log (
    seq         INTEGER PRIMARY KEY,
    kind        INTEGER NOT NULL,
    scope       TEXT NOT NULL,
    tbl         TEXT NOT NULL,
    row         BLOB NOT NULL,
    field       TEXT NOT NULL,
    vkind       INTEGER NOT NULL,
    val,
    hlc         INTEGER NOT NULL,
    origin      INTEGER NOT NULL,
    oseq        INTEGER NOT NULL,
    base_origin INTEGER NOT NULL,
    base_seq    INTEGER NOT NULL,
    new_scope   TEXT
);
CREATE INDEX sync_log_scope ON sync_log (scope, seq);

-- Values that lost to a concurrent write, so a person can restore them.
CREATE TABLE sync_conflicts (
    id           INTEGER PRIMARY KEY,
    at_ms        INTEGER NOT NULL,
    scope        TEXT NOT NULL,
    tbl          TEXT NOT NULL,
    row          BLOB NOT NULL,
    field        TEXT NOT NULL,
    loser_kind   INTEGER NOT NULL,
    loser_val,
    loser_hlc    INTEGER NOT NULL,
    loser_origin BLOB NOT NULL,
    loser_seq    INTEGER NOT NULL,
    winner_hlc   INTEGER NOT NULL,
    winner_origin BLOB NOT NULL,
    winner_seq   INTEGER NOT NULL
);
CREATE INDEX sync_conflicts_row ON sync_conflicts (tbl, row);

-- Changes the server refused, with the reason: stored so nothing is lost.
CREATE TABLE sync_refused (
    id        INTEGER PRIMARY KEY,
    at_ms     INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    scope     TEXT NOT NULL,
    tbl       TEXT NOT NULL,
    row       BLOB NOT NULL,
    field     TEXT NOT NULL,
    kind      INTEGER NOT NULL,
    val,
    hlc       INTEGER NOT NULL,
    origin    BLOB NOT NULL,
    oseq      INTEGER NOT NULL,
    code      TEXT NOT NULL,
    reason    TEXT NOT NULL
);
