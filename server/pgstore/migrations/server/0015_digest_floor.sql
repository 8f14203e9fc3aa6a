-- Review 35c: see the SQLite store's 0017_digest_floor.sql.
ALTER TABLE replicas ADD COLUMN digest_floor BIGINT NOT NULL DEFAULT 0;
UPDATE replicas SET digest_floor = GREATEST(0, max_seq - 20000);
