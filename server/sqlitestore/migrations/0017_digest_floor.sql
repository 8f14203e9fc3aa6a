-- Review 35c: collection keeps a replica's newest digests only
-- (server/fork.go DigestWindow), and a sequence pushed again with no
-- digest was answered as a duplicate. A copy of a data folder far behind
-- the other copy pushes, under the shared id, changes the other copy's
-- digests no longer cover: answered duplicate, they were lost. The floor
-- is the highest sequence of a replica (origin: replicas.idx) whose digest
-- collection may have dropped; a sequence at or below it pushed again is
-- of unknown content, and is answered replica_forked. A table of its own,
-- not a column of replicas: on PostgreSQL collection would hold the
-- replicas rows every push writes (review 35d). Digests collected before
-- this kept no floor: the window is taken as collected.
CREATE TABLE sync_digest_floor (
    origin INTEGER PRIMARY KEY,
    seq    INTEGER NOT NULL
);
INSERT INTO sync_digest_floor (origin, seq) SELECT idx, max_seq - 20000 FROM replicas WHERE max_seq > 20000;
