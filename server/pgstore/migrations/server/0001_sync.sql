-- The sync server's own tables on PostgreSQL (server/migrations/sqlite
-- 0001_sync.sql translated), recorded as migration set "server_pg".

CREATE TABLE server_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Replicas get a small integer so log rows stay narrow. An idx, once
-- committed, never changes: every process may cache it.
CREATE TABLE replicas (
    idx     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id      BYTEA NOT NULL UNIQUE,
    max_seq BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    member_id    TEXT NOT NULL,
    replica_id   BYTEA NOT NULL,
    label        TEXT NOT NULL,
    client       TEXT NOT NULL,
    token_hash   BYTEA NOT NULL UNIQUE,
    created_ms   BIGINT NOT NULL,
    revoked_ms   BIGINT,
    last_seen_ms BIGINT,
    cursor       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX devices_member ON devices (member_id);

CREATE TABLE enroll_codes (
    hash       BYTEA PRIMARY KEY,
    member_id  TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    used_ms    BIGINT,
    device_id  TEXT
);

-- One row per synced row; versions is the winning version of every field
-- as one msgpack blob (pgstore/versions.go).
CREATE TABLE sync_rows (
    tbl      TEXT NOT NULL,
    row      BYTEA NOT NULL,
    scope    TEXT NOT NULL,
    parent   BYTEA,
    deleted  BOOLEAN NOT NULL DEFAULT FALSE,
    tomb_seq BIGINT NOT NULL DEFAULT 0,
    versions BYTEA NOT NULL,
    PRIMARY KEY (tbl, row)
);
CREATE INDEX sync_rows_parent ON sync_rows (parent) WHERE parent IS NOT NULL;
CREATE INDEX sync_rows_deleted ON sync_rows (scope) WHERE deleted;

-- The log every pull reads; seq is the global server_seq. Values are
-- bytes: vkind says how to read them (pgstore/values.go).
CREATE TABLE sync_log (
    seq         BIGINT PRIMARY KEY,
    kind        SMALLINT NOT NULL,
    scope       TEXT NOT NULL,
    tbl         TEXT NOT NULL,
    row         BYTEA NOT NULL,
    field       TEXT NOT NULL,
    vkind       SMALLINT NOT NULL,
    val         BYTEA,
    hlc         BIGINT NOT NULL,
    origin      BIGINT NOT NULL,
    oseq        BIGINT NOT NULL,
    base_origin BIGINT NOT NULL,
    base_seq    BIGINT NOT NULL,
    new_scope   TEXT
);
CREATE INDEX sync_log_scope ON sync_log (scope, seq);

-- The log head: the highest seq ever appended, committed with the entries.
-- Appending transactions lock this one row (SELECT ... FOR UPDATE) until
-- they commit, which orders seqs by commit (see pgstore.go, "The log").
CREATE TABLE sync_log_head (
    one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    seq BIGINT NOT NULL
);
INSERT INTO sync_log_head (one, seq) VALUES (TRUE, 0);

CREATE TABLE sync_conflicts (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at_ms         BIGINT NOT NULL,
    scope         TEXT NOT NULL,
    tbl           TEXT NOT NULL,
    row           BYTEA NOT NULL,
    field         TEXT NOT NULL,
    loser_kind    SMALLINT NOT NULL,
    loser_val     BYTEA,
    loser_hlc     BIGINT NOT NULL,
    loser_origin  BYTEA NOT NULL,
    loser_seq     BIGINT NOT NULL,
    winner_hlc    BIGINT NOT NULL,
    winner_origin BYTEA NOT NULL,
    winner_seq    BIGINT NOT NULL
);
CREATE INDEX sync_conflicts_row ON sync_conflicts (tbl, row);

CREATE TABLE sync_refused (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at_ms     BIGINT NOT NULL,
    device_id TEXT NOT NULL,
    scope     TEXT NOT NULL,
    tbl       TEXT NOT NULL,
    row       BYTEA NOT NULL,
    field     TEXT NOT NULL,
    kind      SMALLINT NOT NULL,
    val       BYTEA,
    hlc       BIGINT NOT NULL,
    origin    BYTEA NOT NULL,
    oseq      BIGINT NOT NULL,
    code      TEXT NOT NULL,
    reason    TEXT NOT NULL
);
-- A change pushed again after its Ack was lost is answered with its
-- refusal again (Tx.Refusals).
CREATE INDEX sync_refused_origin ON sync_refused (origin, oseq);
