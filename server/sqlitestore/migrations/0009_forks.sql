-- Issue 14: a copied data folder (a restored backup, a second laptop set
-- up by copying) writes under the replica id of the original, so two
-- replicas number their changes 1, 2, 3, ... as one. The second to push
-- sends sequences the server holds under other content.
--
-- sync_digests keeps a digest of every change the server took from a
-- replica (origin is replicas.idx), so a change pushed again with a known
-- sequence is either the same (its Ack was lost: duplicate) or a fork
-- (replica_forked). Collection keeps each replica's newest digests only
-- (server/fork.go, DigestWindow): a legitimate re-push is never further
-- behind than what an agent keeps in flight.
CREATE TABLE sync_digests (
    origin INTEGER NOT NULL,
    seq    INTEGER NOT NULL,
    digest INTEGER NOT NULL,
    PRIMARY KEY (origin, seq)
) WITHOUT ROWID;

-- A fork continues under a new replica id on a new device (POST /v1/fork),
-- made with the token of the device whose folder was copied: forked_from
-- names that device, so the same request sent again (the answer was lost)
-- gets the same device with a new token.
CREATE TABLE device_forks (
    device_id   TEXT PRIMARY KEY,
    forked_from TEXT NOT NULL,
    created_ms  INTEGER NOT NULL
);
CREATE INDEX device_forks_from ON device_forks (forked_from);
