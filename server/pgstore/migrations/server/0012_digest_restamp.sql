-- Review 26 F3: the stamp the server gave a change it restamped, beside its
-- digest (server/sqlitestore/migrations 0013_digest_restamp.sql translated;
-- the reasons are there). NULL: kept as pushed. Adding a nullable column
-- without a default rewrites nothing.
ALTER TABLE sync_digests ADD COLUMN hlc BIGINT;
