-- The server's row tables (the data model's households, visits,
-- tutoring_records, field_reports) rebuilt WITHOUT ROWID: each is stored in
-- the order of its id, as sync_rows is stored in the order of (tbl, row).
-- A snapshot page walks sync_rows in row order and takes each row's values
-- from its row table (issue 20: a field's value is kept once, there): in a
-- rowid table that lookup went through the id index to a page in the order
-- the rows were inserted, a random page for almost every row of a clone
-- (18 µs of CPU per household on the 2-million-row province); in id order
-- the lookups walk the table's pages in turn (9 µs).
--
-- The columns, their declared types and the indexes are the data model's at
-- this server release (schema migrations 1 to 4, which always run before
-- this set): TestRowTablesKeepTheDataModel compares them with a database
-- the data model alone built, so a schema migration that adds a column or
-- an index must be mirrored here for new databases. The agent's replicas
-- keep rowid tables (its app reads rows in rowid order).

CREATE TABLE households_clustered (
    id                   TEXT PRIMARY KEY,
    _deleted             INTEGER NOT NULL DEFAULT 0,
    hamlet_code          TEXT,
    head_name            TEXT,
    address              TEXT,
    phone                TEXT,
    members_count        INTEGER,
    has_smartphone       INTEGER,
    vneid_installed      INTEGER,
    vneid_level2         INTEGER,
    uses_public_services INTEGER,
    uses_cashless        INTEGER,
    has_ehealth_record   INTEGER,
    active               INTEGER,
    registered_on        TEXT,
    notes                TEXT,
    uses_camau_g         INTEGER
) WITHOUT ROWID;
INSERT INTO households_clustered (id, _deleted, hamlet_code, head_name, address, phone, members_count, has_smartphone,
    vneid_installed, vneid_level2, uses_public_services, uses_cashless, has_ehealth_record, active, registered_on, notes, uses_camau_g)
SELECT id, _deleted, hamlet_code, head_name, address, phone, members_count, has_smartphone,
    vneid_installed, vneid_level2, uses_public_services, uses_cashless, has_ehealth_record, active, registered_on, notes, uses_camau_g
FROM households ORDER BY id;
DROP TABLE households;
ALTER TABLE households_clustered RENAME TO households;
CREATE INDEX households_hamlet ON households (hamlet_code);

CREATE TABLE visits_clustered (
    id           TEXT PRIMARY KEY,
    _deleted     INTEGER NOT NULL DEFAULT 0,
    hamlet_code  TEXT,
    household_id TEXT,
    volunteer_id TEXT,
    visited_on   TEXT,
    notes        TEXT
) WITHOUT ROWID;
INSERT INTO visits_clustered (id, _deleted, hamlet_code, household_id, volunteer_id, visited_on, notes)
SELECT id, _deleted, hamlet_code, household_id, volunteer_id, visited_on, notes FROM visits ORDER BY id;
DROP TABLE visits;
ALTER TABLE visits_clustered RENAME TO visits;
CREATE INDEX visits_household_date ON visits (household_id, visited_on);
CREATE INDEX visits_hamlet_date ON visits (hamlet_code, visited_on);

CREATE TABLE tutoring_records_clustered (
    id           TEXT PRIMARY KEY,
    _deleted     INTEGER NOT NULL DEFAULT 0,
    hamlet_code  TEXT,
    household_id TEXT,
    volunteer_id TEXT,
    skill        TEXT,
    person_name  TEXT,
    taught_on    TEXT,
    outcome      TEXT
) WITHOUT ROWID;
INSERT INTO tutoring_records_clustered (id, _deleted, hamlet_code, household_id, volunteer_id, skill, person_name, taught_on, outcome)
SELECT id, _deleted, hamlet_code, household_id, volunteer_id, skill, person_name, taught_on, outcome FROM tutoring_records ORDER BY id;
DROP TABLE tutoring_records;
ALTER TABLE tutoring_records_clustered RENAME TO tutoring_records;
CREATE INDEX tutoring_household_skill_date ON tutoring_records (household_id, skill, taught_on);
CREATE INDEX tutoring_hamlet_date ON tutoring_records (hamlet_code, taught_on);

CREATE TABLE field_reports_clustered (
    id               TEXT PRIMARY KEY,
    _deleted         INTEGER NOT NULL DEFAULT 0,
    hamlet_code      TEXT,
    household_id     TEXT,
    volunteer_id     TEXT,
    category         TEXT,
    description      TEXT,
    location         TEXT,
    lat              REAL,
    lng              REAL,
    occurred_at      INTEGER,
    reporter_name    TEXT,
    reporter_phone   TEXT,
    consent_disclose INTEGER,
    photos           TEXT,
    status           TEXT,
    status_reason    TEXT,
    agency           TEXT,
    submitted_at     INTEGER,
    dispatched_at    INTEGER,
    resolved_at      INTEGER,
    satisfaction     INTEGER,
    photo_digests    TEXT
) WITHOUT ROWID;
INSERT INTO field_reports_clustered (id, _deleted, hamlet_code, household_id, volunteer_id, category, description, location,
    lat, lng, occurred_at, reporter_name, reporter_phone, consent_disclose, photos, status, status_reason, agency,
    submitted_at, dispatched_at, resolved_at, satisfaction, photo_digests)
SELECT id, _deleted, hamlet_code, household_id, volunteer_id, category, description, location,
    lat, lng, occurred_at, reporter_name, reporter_phone, consent_disclose, photos, status, status_reason, agency,
    submitted_at, dispatched_at, resolved_at, satisfaction, photo_digests
FROM field_reports ORDER BY id;
DROP TABLE field_reports;
ALTER TABLE field_reports_clustered RENAME TO field_reports;
CREATE INDEX field_reports_status_category ON field_reports (status, category);
CREATE INDEX field_reports_hamlet_submitted ON field_reports (hamlet_code, submitted_at);
