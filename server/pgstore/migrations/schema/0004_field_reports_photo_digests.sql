-- schema-version: 3
-- Schema 3 adds field_reports.photo_digests (see schema/migrations/sqlite/0004):
-- a nullable column, a catalogue change only.
ALTER TABLE field_reports ADD COLUMN photo_digests TEXT;
