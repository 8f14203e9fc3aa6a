-- Official holiday schedules the operator imports (server/migrations/sqlite
-- 0007_holiday_schedules.sql translated).
CREATE TABLE holiday_years (
    year        INTEGER PRIMARY KEY,
    note        TEXT NOT NULL,
    imported_ms BIGINT NOT NULL
);

CREATE TABLE holiday_days (
    day     TEXT PRIMARY KEY,
    year    INTEGER NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('holiday', 'in_lieu', 'bridge', 'workday')),
    name_vi TEXT NOT NULL,
    name_en TEXT NOT NULL
);
CREATE INDEX holiday_days_year ON holiday_days (year);
