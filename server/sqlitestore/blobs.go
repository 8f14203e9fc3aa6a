package sqlitestore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

var _ server.BlobStore = (*Store)(nil)

// Blobs are files under the data directory, beside hamlet.db:
// blobs/ab/abcd… for a blob, blobs/uploads/abcd….part for an unfinished
// upload; the tables blobs and blob_uploads say which bytes are whole.

func (s *Store) blobDir() string { return filepath.Join(filepath.Dir(s.path), "blobs") }

func (s *Store) blobPath(key string) string {
	return filepath.Join(s.blobDir(), key[:2], key)
}

func (s *Store) uploadPath(key string) string {
	return filepath.Join(s.blobDir(), "uploads", key+".part")
}

func checkKey(key string) error {
	if !server.ValidBlobKey(key) {
		return fmt.Errorf("blob key %q: not a photo digest", key)
	}
	return nil
}

// writeFileSynced writes data to path through a temporary file, synced and
// renamed, so path is either absent or whole.
func writeFileSynced(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	_ = d.Sync() // not every file system syncs a directory; the rename stands
	return nil
}

func (s *Store) PutBlob(ctx context.Context, key string, data []byte, at time.Time) error {
	if err := checkKey(key); err != nil {
		return err
	}
	s.blobMu.Lock()
	defer s.blobMu.Unlock()
	if _, err := s.StatBlob(ctx, key); err == nil {
		return nil // content-addressed: the stored one is the same
	} else if !errors.Is(err, server.ErrNotFound) {
		return err
	}
	if err := writeFileSynced(s.blobPath(key), data); err != nil {
		return fmt.Errorf("store blob: %w", err)
	}
	return s.write(ctx, func(w *writeTx) error {
		_, err := w.exec(`INSERT INTO blobs (key, size, created_ms) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`,
			key, len(data), at.UnixMilli())
		return err
	})
}

func (s *Store) Blob(ctx context.Context, key string) ([]byte, error) {
	info, err := s.StatBlob(ctx, key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.blobPath(key))
	if err != nil {
		return nil, fmt.Errorf("read blob: %w", err)
	}
	if int64(len(b)) != info.Size {
		return nil, fmt.Errorf("read blob: the file holds %d bytes, %d were stored", len(b), info.Size)
	}
	return b, nil
}

func (s *Store) StatBlob(ctx context.Context, key string) (server.BlobInfo, error) {
	if err := checkKey(key); err != nil {
		return server.BlobInfo{}, err
	}
	var size, created int64
	var unref sql.NullInt64
	err := s.rdb.QueryRowContext(ctx, `SELECT size, created_ms, unreferenced_ms FROM blobs WHERE key = ?`, key).Scan(&size, &created, &unref)
	if errors.Is(err, sql.ErrNoRows) {
		return server.BlobInfo{}, fmt.Errorf("blob: %w", server.ErrNotFound)
	}
	if err != nil {
		return server.BlobInfo{}, fmt.Errorf("stat blob: %w", err)
	}
	info := server.BlobInfo{Key: key, Size: size, Created: time.UnixMilli(created)}
	if unref.Valid {
		t := time.UnixMilli(unref.Int64)
		info.Unreferenced = &t
	}
	return info, nil
}

func (s *Store) UploadLength(ctx context.Context, key string) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	var n int64
	err := s.rdb.QueryRowContext(ctx, `SELECT size FROM blob_uploads WHERE key = ?`, key).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read upload: %w", err)
	}
	return n, nil
}

func (s *Store) AppendUpload(ctx context.Context, key string, at int64, data []byte, now time.Time) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	s.blobMu.Lock()
	defer s.blobMu.Unlock()
	stored, err := s.UploadLength(ctx, key)
	if err != nil {
		return 0, err
	}
	if at != stored {
		return stored, &server.UploadOffsetError{Stored: stored}
	}
	path := s.uploadPath(key)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return stored, fmt.Errorf("append upload: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o640)
	if err != nil {
		return stored, fmt.Errorf("append upload: %w", err)
	}
	if fi, err := f.Stat(); err == nil && fi.Size() < stored {
		// Fewer bytes than were stored: the file was cut or emptied (an
		// operator who freed the disk by emptying the uploads folder, a
		// restore). Extended with zeros it became a photo whose digest
		// fails at its end; the upload starts again from its first byte.
		f.Close()
		if err := s.dropUpload(ctx, key); err != nil {
			return stored, fmt.Errorf("append upload: %w", err)
		}
		return 0, &server.UploadOffsetError{Stored: 0}
	}
	// Bytes past the stored length are a write a crash cut: gone.
	err = f.Truncate(stored)
	if err == nil {
		_, err = f.WriteAt(data, stored)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return stored, fmt.Errorf("append upload: %w", err)
	}
	n := stored + int64(len(data))
	err = s.write(ctx, func(w *writeTx) error {
		_, err := w.exec(`INSERT INTO blob_uploads (key, size, created_ms, updated_ms) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET size = excluded.size, updated_ms = excluded.updated_ms`, key, n, now.UnixMilli(), now.UnixMilli())
		return err
	})
	if err != nil {
		return stored, fmt.Errorf("append upload: %w", err)
	}
	return n, nil
}

// dropUpload forgets an upload: its row, then its file.
func (s *Store) dropUpload(ctx context.Context, key string) error {
	if err := s.write(ctx, func(w *writeTx) error {
		_, err := w.exec(`DELETE FROM blob_uploads WHERE key = ?`, key)
		return err
	}); err != nil {
		return fmt.Errorf("drop upload: %w", err)
	}
	if err := os.Remove(s.uploadPath(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("drop upload: %w", err)
	}
	return nil
}

func (s *Store) FinishUpload(ctx context.Context, key string, check func([]byte) error, now time.Time) error {
	if err := checkKey(key); err != nil {
		return err
	}
	s.blobMu.Lock()
	defer s.blobMu.Unlock()
	n, err := s.UploadLength(ctx, key)
	if err != nil {
		return err
	}
	drop := func() error { return s.dropUpload(ctx, key) }
	if _, err := s.StatBlob(ctx, key); err == nil {
		return drop()
	}
	data, err := os.ReadFile(s.uploadPath(key))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("finish upload: %w", err)
	}
	if int64(len(data)) < n {
		// The file was cut or emptied since (AppendUpload): refused for
		// good as a failing store, the photo never arrived. It is sent
		// again from its first byte.
		if err := drop(); err != nil {
			return fmt.Errorf("finish upload: the file holds %d bytes, %d were stored: %w", len(data), n, err)
		}
		return &server.UploadOffsetError{Stored: 0}
	}
	data = data[:n]
	if err := check(data); err != nil {
		if derr := drop(); derr != nil {
			return errors.Join(err, derr)
		}
		return err
	}
	if err := writeFileSynced(s.blobPath(key), data); err != nil {
		return fmt.Errorf("finish upload: %w", err)
	}
	if err := s.write(ctx, func(w *writeTx) error {
		if _, err := w.exec(`INSERT INTO blobs (key, size, created_ms) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`,
			key, len(data), now.UnixMilli()); err != nil {
			return err
		}
		_, err := w.exec(`DELETE FROM blob_uploads WHERE key = ?`, key)
		return err
	}); err != nil {
		return fmt.Errorf("finish upload: %w", err)
	}
	if err := os.Remove(s.uploadPath(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("finish upload: %w", err)
	}
	return nil
}

func (s *Store) Blobs(ctx context.Context, fn func(server.BlobInfo) error) error {
	rows, err := s.rdb.QueryContext(ctx, `SELECT key, size, 0, created_ms, created_ms, unreferenced_ms FROM blobs
		UNION ALL SELECT key, size, 1, created_ms, updated_ms, NULL FROM blob_uploads`)
	if err != nil {
		return fmt.Errorf("list blobs: %w", err)
	}
	var all []server.BlobInfo
	for rows.Next() {
		var b server.BlobInfo
		var created, updated int64
		var unref sql.NullInt64
		if err := rows.Scan(&b.Key, &b.Size, &b.Upload, &created, &updated, &unref); err != nil {
			rows.Close()
			return fmt.Errorf("list blobs: %w", err)
		}
		b.Created, b.Updated = time.UnixMilli(created), time.UnixMilli(updated)
		if unref.Valid {
			t := time.UnixMilli(unref.Int64)
			b.Unreferenced = &t
		}
		all = append(all, b)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("list blobs: %w", err)
	}
	// fn may write (collection deletes): the read is over first.
	slices.SortFunc(all, func(a, b server.BlobInfo) int {
		return cmp.Or(strings.Compare(a.Key, b.Key), cmp.Compare(boolInt(a.Upload), boolInt(b.Upload)))
	})
	for _, b := range all {
		if err := fn(b); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) MarkBlob(ctx context.Context, key string, since *time.Time) error {
	var v any
	if since != nil {
		v = since.UnixMilli()
	}
	return s.write(ctx, func(w *writeTx) error {
		_, err := w.exec(`UPDATE blobs SET unreferenced_ms = ? WHERE key = ?`, v, key)
		return err
	})
}

func (s *Store) DeleteBlob(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	s.blobMu.Lock()
	defer s.blobMu.Unlock()
	if err := s.write(ctx, func(w *writeTx) error {
		if _, err := w.exec(`DELETE FROM blobs WHERE key = ?`, key); err != nil {
			return err
		}
		_, err := w.exec(`DELETE FROM blob_uploads WHERE key = ?`, key)
		return err
	}); err != nil {
		return fmt.Errorf("delete blob: %w", err)
	}
	for _, p := range []string{s.blobPath(key), s.uploadPath(key)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete blob: %w", err)
		}
	}
	return nil
}

func (s *Store) PhotoReports(ctx context.Context, digest string) ([]server.PhotoReport, error) {
	return s.src.PhotoReports(ctx, digest)
}

func (s *Store) ReportWriters(ctx context.Context, report syncproto.RowID) ([]syncproto.ReplicaID, error) {
	tc := rowTables["field_reports"]
	if tc == nil {
		return nil, nil
	}
	// One statement: the blob and the row table's values of one moment;
	// the replica is resolved after it (replicaOf may need the pool).
	var blob []byte
	vals := make([]any, len(tc.Cols))
	dst := []any{&blob}
	for i := range vals {
		dst = append(dst, &vals[i])
	}
	err := s.rdb.QueryRowContext(ctx, `SELECT s.versions`+prefixedCols(", t.", tc.Cols)+` FROM sync_rows s LEFT JOIN field_reports t ON t.id = ?
		WHERE s.tbl = 'field_reports' AND s.row = ?`, report.String(), report[:]).Scan(dst...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("writers of a report: %w", err)
	}
	vs, err := versions.Decode(blob, func(idx int64) (syncproto.ReplicaID, error) { return s.replicaOf(ctx, idx) }, tc.Values(vals))
	if err != nil {
		return nil, fmt.Errorf("writers of a report: %w", err)
	}
	return server.VersionWriters(vs), nil
}

func (s *Store) PhotoDigestsInUse(ctx context.Context) (map[string]bool, error) {
	in, err := s.src.PhotoDigestsInUse(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT loser_val FROM sync_conflicts WHERE tbl = 'field_reports' AND field = ?`, schema.PhotoDigestsField)
	if err != nil {
		return nil, fmt.Errorf("photos of conflicts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v sql.NullString
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("photos of conflicts: %w", err)
		}
		for _, d := range schema.PhotoDigests(v.String) {
			in[d] = true
		}
	}
	return in, rows.Err()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
