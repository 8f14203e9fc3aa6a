-- Photos of field reports and their thumbnails (server/blobstore.go): the
-- bytes are files under the data directory (blobs/), these rows say which
-- files are whole. A row is written only after its file is complete and
-- synced, so a file without a row (a crash in between) is never served.
CREATE TABLE blobs (
    key             TEXT PRIMARY KEY,
    size            INTEGER NOT NULL,
    created_ms      INTEGER NOT NULL,
    unreferenced_ms INTEGER
) WITHOUT ROWID;

-- Unfinished uploads: size is how many bytes of blobs/uploads/KEY.part are
-- stored; bytes past it (a write cut by a crash) are cut off by the next
-- chunk.
CREATE TABLE blob_uploads (
    key        TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
