-- Dashboard and API users and their sign-in sessions (server/migrations/
-- sqlite 0002_users.sql translated). Sessions live in the database, so
-- every server process sharing it shares them.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('provincial', 'commune_leader', 'coordinator', 'operator')),
    unit_code     TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_ms    BIGINT NOT NULL,
    disabled_ms   BIGINT
);
-- Usernames are unique case-insensitively (SQLite: COLLATE NOCASE).
CREATE UNIQUE INDEX users_username ON users (lower(username));

CREATE TABLE user_sessions (
    token_hash BYTEA PRIMARY KEY,
    user_id    TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);
CREATE INDEX user_sessions_expires ON user_sessions (expires_ms);
