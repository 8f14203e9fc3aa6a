-- Review 35c: see the SQLite store's 0017_digest_floor.sql. A table of its
-- own: collection's upsert locks its rows, never the replicas rows every
-- push writes (review 35d).
CREATE TABLE sync_digest_floor (
    origin BIGINT PRIMARY KEY,
    seq    BIGINT NOT NULL
);
INSERT INTO sync_digest_floor (origin, seq) SELECT idx, max_seq - 20000 FROM replicas WHERE max_seq > 20000;
