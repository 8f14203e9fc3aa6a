-- Placeholder for version 3, which branch i9-scope adds
-- (0003_scope_history.sql). The runner needs versions without gaps, and
-- branch i9-devices adds version 4. DELETE THIS FILE when merging i9-scope.
SELECT 1;
