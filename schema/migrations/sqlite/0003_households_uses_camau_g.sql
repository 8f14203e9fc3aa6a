-- schema-version: 2
-- Schema 2 adds households.uses_camau_g: the household uses the province's
-- CaMau-G app (field reports, public services), the skill camau_g teaches.
-- ADD COLUMN changes no row and no index: rows registered before it read
-- NULL (not recorded), never a guessed "no". An agent replica that held the
-- field as an unknown field while it ran schema 1 fills the column from its
-- row states when it opens (agent: backfill after the upgrade); its sync
-- metadata is not touched.
ALTER TABLE households ADD COLUMN uses_camau_g INTEGER;
