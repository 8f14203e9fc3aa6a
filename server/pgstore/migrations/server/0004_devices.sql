-- Issue 9 part 2: a revoked device loses nothing (server/migrations/sqlite
-- 0004_devices.sql translated; the reasons are there).
ALTER TABLE devices ADD COLUMN replaces_id TEXT;

UPDATE devices d SET revoked_ms = (
    SELECT MIN(n.created_ms) FROM devices n
    WHERE n.replica_id = d.replica_id AND n.revoked_ms IS NULL
      AND (n.created_ms > d.created_ms OR (n.created_ms = d.created_ms AND n.id > d.id)))
WHERE d.revoked_ms IS NULL AND EXISTS (
    SELECT 1 FROM devices n
    WHERE n.replica_id = d.replica_id AND n.revoked_ms IS NULL
      AND (n.created_ms > d.created_ms OR (n.created_ms = d.created_ms AND n.id > d.id)));
CREATE UNIQUE INDEX devices_replica_active ON devices (replica_id) WHERE revoked_ms IS NULL;
CREATE INDEX devices_replica ON devices (replica_id, created_ms);

CREATE INDEX enroll_codes_member ON enroll_codes (member_id, created_ms);
