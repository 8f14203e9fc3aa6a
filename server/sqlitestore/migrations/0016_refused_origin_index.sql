-- The server reads refusals by origin and sequence: a batch's own, and
-- the refused base a pushed change names (judged by that refusal's base,
-- docs/PROTOCOL.md §7.4). Without an index each lookup read the whole
-- table. PostgreSQL has had this index since its first migration.
CREATE INDEX sync_refused_origin ON sync_refused (origin, oseq);
