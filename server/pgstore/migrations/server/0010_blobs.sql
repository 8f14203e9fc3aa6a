-- Photos of field reports and their thumbnails (server/blobstore.go), in
-- the database itself, so every server process on it serves every photo
-- and a backup of the database holds them. A scaled photo is a few hundred
-- kilobytes: bytea (TOASTed out of line) rather than large objects, which
-- need their own clean-up. STORAGE EXTERNAL: a JPEG does not compress, so
-- PostgreSQL is not asked to try.
CREATE TABLE blobs (
    key             TEXT PRIMARY KEY,
    data            BYTEA NOT NULL,
    size            BIGINT NOT NULL,
    created_ms      BIGINT NOT NULL,
    unreferenced_ms BIGINT
);
ALTER TABLE blobs ALTER COLUMN data SET STORAGE EXTERNAL;

-- Unfinished uploads, chunk by chunk: any process continues an upload
-- another began. The blob_uploads row is locked while a chunk is added, so
-- two processes cannot interleave one upload.
CREATE TABLE blob_uploads (
    key        TEXT PRIMARY KEY,
    size       BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE TABLE blob_upload_chunks (
    key  TEXT NOT NULL,
    at   BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (key, at)
);
ALTER TABLE blob_upload_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
