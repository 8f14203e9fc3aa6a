-- schema-version: 3
-- Schema 3 adds field_reports.photo_digests: the report's photos, as the
-- JSON array of their SHA-256 digests (docs/PROTOCOL.md §19). ADD COLUMN
-- of a nullable column: rows filed before it read NULL (no photos). An
-- agent replica that held the field as an unknown one while it ran an older
-- schema fills the column from its row states when it opens.
ALTER TABLE field_reports ADD COLUMN photo_digests TEXT;
