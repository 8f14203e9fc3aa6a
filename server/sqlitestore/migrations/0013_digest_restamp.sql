-- Review 26 F3: a change the server restamped (its HLC too far ahead),
-- pushed again because its Ack was lost, is answered duplicate with the
-- stamp the server gave it (PROTOCOL §7.4), else the client keeps its own
-- stamp for good and decides the field otherwise than every other replica.
-- The stamp is kept beside the change's digest: a legitimate re-push is
-- always within the digests' window, while the log has no index by origin
-- and may have compacted the entry, and the row may hold a later version.
-- NULL: the server kept the change's own stamp (or took it before this
-- migration: such a re-push gets a bare duplicate, as before).
ALTER TABLE sync_digests ADD COLUMN hlc INTEGER;
