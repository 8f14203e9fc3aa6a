-- Issue 9 part 2: a revoked device loses nothing.
--
-- replaces_id links a device enrolled again on an existing replica (a new
-- code, the same replica id) to the device record it replaced; the old
-- record stays, revoked, so its token never works again and the listing
-- shows the history of the laptop.
ALTER TABLE devices ADD COLUMN replaces_id TEXT;

-- One replica is active on at most one device: two tokens for one replica
-- would let two laptops push the same origin's sequence numbers. Before
-- this rule a replica enrolled twice kept both tokens; the agent keeps only
-- its newest token file, so the older devices of such a replica are
-- revoked (at the time the newer device was enrolled).
UPDATE devices SET revoked_ms = (
    SELECT MIN(n.created_ms) FROM devices n
    WHERE n.replica_id = devices.replica_id AND n.revoked_ms IS NULL
      AND (n.created_ms > devices.created_ms OR (n.created_ms = devices.created_ms AND n.id > devices.id)))
WHERE revoked_ms IS NULL AND EXISTS (
    SELECT 1 FROM devices n
    WHERE n.replica_id = devices.replica_id AND n.revoked_ms IS NULL
      AND (n.created_ms > devices.created_ms OR (n.created_ms = devices.created_ms AND n.id > devices.id)));
CREATE UNIQUE INDEX devices_replica_active ON devices (replica_id) WHERE revoked_ms IS NULL;
CREATE INDEX devices_replica ON devices (replica_id, created_ms);

-- Codes are listed per member (hamlet-server code list --member/--team).
CREATE INDEX enroll_codes_member ON enroll_codes (member_id, created_ms);
