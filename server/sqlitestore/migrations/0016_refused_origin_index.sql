-- The server follows a refused write to its base whenever a pushed change
-- names a base it does not hold as current (review 33, S1: whatever replica
-- id names it), and reads a batch's own refusals by origin and sequence:
-- without an index each lookup read the whole table. PostgreSQL has had
-- this index since its first migration.
CREATE INDEX sync_refused_origin ON sync_refused (origin, oseq);
