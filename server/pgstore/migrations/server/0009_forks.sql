-- Issue 14: a copied data folder (server/migrations/sqlite 0009_forks.sql
-- translated; the reasons are there).
CREATE TABLE sync_digests (
    origin BIGINT NOT NULL,
    seq    BIGINT NOT NULL,
    digest BIGINT NOT NULL,
    PRIMARY KEY (origin, seq)
);

CREATE TABLE device_forks (
    device_id   TEXT PRIMARY KEY,
    forked_from TEXT NOT NULL,
    created_ms  BIGINT NOT NULL
);
CREATE INDEX device_forks_from ON device_forks (forked_from);
