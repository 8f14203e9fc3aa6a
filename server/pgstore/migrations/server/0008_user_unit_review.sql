-- Accounts awaiting confirmation of a reorganised unit (server/migrations/
-- sqlite 0008_user_unit_review.sql translated).
ALTER TABLE users ADD COLUMN unit_changed_on TEXT;
