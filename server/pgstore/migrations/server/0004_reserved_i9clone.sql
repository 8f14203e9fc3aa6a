-- Placeholder for version 4, which branch i9-devices adds
-- (0004_devices.sql). The runner needs versions without gaps, and branch
-- i9-clone adds version 5. DELETE THIS FILE when merging i9-devices.
SELECT 1;
