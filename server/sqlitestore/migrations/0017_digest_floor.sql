-- Review 35c: collection keeps a replica's newest digests only
-- (server/fork.go DigestWindow), and a sequence pushed again with no
-- digest was answered as a duplicate. A copy of a data folder far behind
-- the other copy pushes, under the shared id, changes the other copy's
-- digests no longer cover: answered duplicate, they were lost. The floor
-- is the highest sequence whose digest collection may have dropped; a
-- sequence at or below it pushed again is of unknown content, and is
-- answered replica_forked. Digests collected before this kept no floor:
-- the window is taken as collected.
ALTER TABLE replicas ADD COLUMN digest_floor INTEGER NOT NULL DEFAULT 0;
UPDATE replicas SET digest_floor = max(0, max_seq - 20000);
