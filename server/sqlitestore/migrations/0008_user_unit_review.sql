-- A dashboard account bound to a unit whose extent a reorganisation changed
-- (a reused code, as 32002 passed from Phường 4 to An Xuyên in 2025, or a
-- retired unit) awaits the operator's confirmation (hamlet-server user
-- rebind). unit_changed_on is the day the extent changed; while it is set
-- the account signs in to a page saying so and sees no data.
ALTER TABLE users ADD COLUMN unit_changed_on TEXT;
