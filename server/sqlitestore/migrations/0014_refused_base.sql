-- Issue 17, wide seed 2078: a laptop whose write was refused (a household
-- moved to a hamlet outside its team) keeps the value on screen and may edit
-- it again; the next write's base is the refused one, which the server never
-- took. The server judges such a write by the refused write's own base (the
-- value the laptop had actually seen), else it logs a conflict against a
-- value the volunteer had overwritten knowingly. So the base is kept beside
-- the refusal. NULL: refused before this migration; judged as before.
ALTER TABLE sync_refused ADD COLUMN base_origin BLOB;
ALTER TABLE sync_refused ADD COLUMN base_seq INTEGER;
