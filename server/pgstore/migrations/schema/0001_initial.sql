-- Hamlet data model on PostgreSQL, version 1: schema/migrations/sqlite
-- 0001_initial.sql translated. Recorded as migration set "schema_pg".
--
-- Types follow the SQLite model so the analytics queries read the same
-- values from both stores: booleans are 0/1 integers, times unix
-- milliseconds, dates 'YYYY-MM-DD' text. Synced tables take one nullable
-- column per registry field (changes arrive one field at a time).

CREATE TABLE admin_units (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    type        TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('province', 'district', 'commune', 'hamlet')),
    parent_code TEXT,
    retired_on  TEXT
);

CREATE TABLE admin_unit_predecessors (
    code             TEXT NOT NULL,
    predecessor_code TEXT NOT NULL,
    partial          BOOLEAN NOT NULL DEFAULT FALSE,
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
    _deleted             BIGINT NOT NULL DEFAULT 0,
    hamlet_code          TEXT,
    head_name            TEXT,
    address              TEXT,
    phone                TEXT,
    members_count        BIGINT,
    has_smartphone       BIGINT,
    vneid_installed      BIGINT,
    vneid_level2         BIGINT,
    uses_public_services BIGINT,
    uses_cashless        BIGINT,
    has_ehealth_record   BIGINT,
    active               BIGINT,
    registered_on        TEXT,
    notes                TEXT
);

CREATE TABLE visits (
    id           TEXT PRIMARY KEY,
    _deleted     BIGINT NOT NULL DEFAULT 0,
    hamlet_code  TEXT,
    household_id TEXT,
    volunteer_id TEXT,
    visited_on   TEXT,
    notes        TEXT
);

CREATE TABLE tutoring_records (
    id           TEXT PRIMARY KEY,
    _deleted     BIGINT NOT NULL DEFAULT 0,
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
    _deleted         BIGINT NOT NULL DEFAULT 0,
    hamlet_code      TEXT,
    household_id     TEXT,
    volunteer_id     TEXT,
    category         TEXT,
    description      TEXT,
    location         TEXT,
    lat              DOUBLE PRECISION,
    lng              DOUBLE PRECISION,
    occurred_at      BIGINT,
    reporter_name    TEXT,
    reporter_phone   TEXT,
    consent_disclose BIGINT,
    photos           TEXT,
    status           TEXT,
    status_reason    TEXT,
    agency           TEXT,
    submitted_at     BIGINT,
    dispatched_at    BIGINT,
    resolved_at      BIGINT,
    satisfaction     BIGINT
);
