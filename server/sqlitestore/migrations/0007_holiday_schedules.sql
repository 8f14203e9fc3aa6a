-- Official holiday schedules the operator imports (hamlet-server calendar
-- import, workcal.Schedule): one row per year that follows a schedule, one
-- per dated day of it. A year's import replaces its days whole. Years
-- without a row use the build's embedded schedules or the holidays
-- computed from the Labour Code (workcal).
CREATE TABLE holiday_years (
    year        INTEGER PRIMARY KEY,
    note        TEXT NOT NULL,
    imported_ms INTEGER NOT NULL
);

-- kind is workcal.Kind: holiday, in_lieu, bridge (days off) or workday (a
-- weekend day worked to make up a bridge day).
CREATE TABLE holiday_days (
    day     TEXT PRIMARY KEY, -- YYYY-MM-DD
    year    INTEGER NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('holiday', 'in_lieu', 'bridge', 'workday')),
    name_vi TEXT NOT NULL,
    name_en TEXT NOT NULL
);
CREATE INDEX holiday_days_year ON holiday_days (year);
