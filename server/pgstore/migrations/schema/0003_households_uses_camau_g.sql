-- schema-version: 2
-- Schema 2 adds households.uses_camau_g (see schema/migrations/sqlite/0003):
-- a nullable column, so the ALTER is a catalogue change only, with no table
-- rewrite and no long lock on a province's households.
ALTER TABLE households ADD COLUMN uses_camau_g BIGINT;
