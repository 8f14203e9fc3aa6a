-- Hamlet data model, version 1.
--
-- Synced tables (households, visits, tutoring_records, field_reports) take
-- one nullable column per registry field: changes arrive one field at a
-- time, so a row may exist before its required fields have landed. The
-- registry (schema.SyncedTables) enforces "required", not the database.
-- Booleans are INTEGER 0/1, times are unix milliseconds, dates are
-- 'YYYY-MM-DD' text. Per-field version metadata belongs to syncproto's own
-- migration set, not here.

-- The admin-unit tree. Codes are reused across reorganisations (32002 was
-- Phường 4 in 2022 and is An Xuyên from 2025), so loading a new tree updates
-- the row in place and records where it came from in admin_unit_predecessors.
CREATE TABLE admin_units (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    type        TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('province', 'district', 'commune', 'hamlet')),
    parent_code TEXT,
    retired_on  TEXT
);

-- Successors are the reverse of this relation, so they are not stored twice.
CREATE TABLE admin_unit_predecessors (
    code             TEXT NOT NULL,
    predecessor_code TEXT NOT NULL,
    partial          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (code, predecessor_code)
);

CREATE TABLE teams (
    id           TEXT PRIMARY KEY,
    commune_code TEXT NOT NULL,
    name         TEXT NOT NULL
);

CREATE TABLE team_hamlets (
    team_id     TEXT NOT NULL,
    hamlet_code TEXT NOT NULL,
    PRIMARY KEY (team_id, hamlet_code)
);

CREATE TABLE members (
    id      TEXT PRIMARY KEY,
    team_id TEXT NOT NULL,
    name    TEXT NOT NULL,
    role    TEXT NOT NULL CHECK (role IN ('leader', 'member')),
    phone   TEXT
);

CREATE TABLE households (
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
    notes                TEXT
);

CREATE TABLE visits (
    id           TEXT PRIMARY KEY,
    _deleted     INTEGER NOT NULL DEFAULT 0,
    hamlet_code  TEXT,
    household_id TEXT,
    volunteer_id TEXT,
    visited_on   TEXT,
    notes        TEXT
);

CREATE TABLE tutoring_records (
    id           TEXT PRIMARY KEY,
    _deleted     INTEGER NOT NULL DEFAULT 0,
    hamlet_code  TEXT,
    household_id TEXT,
    volunteer_id TEXT,
    skill        TEXT,
    person_name  TEXT,
    taught_on    TEXT,
    outcome      TEXT
);

CREATE TABLE field_reports (
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
    satisfaction     INTEGER
);
