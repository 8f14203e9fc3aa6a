-- Dashboard and API users (DESIGN.md "Who uses it": commune leaders,
-- provincial staff, report coordinators, operators) and their sign-in
-- sessions. Sessions live in the database, not in a process, so several
-- server processes sharing one database share them.

-- role is one of analytics.Role: provincial, commune_leader, coordinator,
-- operator. unit_code binds the user to an admin unit: a commune leader sees
-- only units within it. password_hash is argon2id in PHC string form
-- ($argon2id$v=19$m=...,t=...,p=...$salt$hash), salt per user.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('provincial', 'commune_leader', 'coordinator', 'operator')),
    unit_code     TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_ms    INTEGER NOT NULL,
    disabled_ms   INTEGER
);

-- token_hash is SHA-256 of a 32-byte random token (the cookie / bearer
-- value): nothing to brute-force, so no slow hash is needed here.
CREATE TABLE user_sessions (
    token_hash BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX user_sessions_user ON user_sessions (user_id);
CREATE INDEX user_sessions_expires ON user_sessions (expires_ms);
