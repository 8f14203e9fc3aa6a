package pgstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

var _ server.BlobStore = (*Store)(nil)

func checkKey(key string) error {
	if !server.ValidBlobKey(key) {
		return fmt.Errorf("blob key %q: not a photo digest", key)
	}
	return nil
}

func (s *Store) PutBlob(ctx context.Context, key string, data []byte, at time.Time) error {
	if err := checkKey(key); err != nil {
		return err
	}
	_, err := s.q().Exec(ctx, `INSERT INTO blobs (key, data, size, created_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING`,
		key, data, len(data), at.UnixMilli())
	if err != nil {
		return fmt.Errorf("store blob: %w", trouble(err))
	}
	return nil
}

func (s *Store) Blob(ctx context.Context, key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	var b []byte
	err := s.q().QueryRow(ctx, `SELECT data FROM blobs WHERE key = $1`, key).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("blob: %w", server.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read blob: %w", err)
	}
	return b, nil
}

func (s *Store) StatBlob(ctx context.Context, key string) (server.BlobInfo, error) {
	if err := checkKey(key); err != nil {
		return server.BlobInfo{}, err
	}
	var size, created int64
	var unref *int64
	err := s.q().QueryRow(ctx, `SELECT size, created_ms, unreferenced_ms FROM blobs WHERE key = $1`, key).Scan(&size, &created, &unref)
	if errors.Is(err, pgx.ErrNoRows) {
		return server.BlobInfo{}, fmt.Errorf("blob: %w", server.ErrNotFound)
	}
	if err != nil {
		return server.BlobInfo{}, fmt.Errorf("stat blob: %w", err)
	}
	info := server.BlobInfo{Key: key, Size: size, Created: time.UnixMilli(created)}
	if unref != nil {
		t := time.UnixMilli(*unref)
		info.Unreferenced = &t
	}
	return info, nil
}

func (s *Store) UploadLength(ctx context.Context, key string) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	var n int64
	err := s.q().QueryRow(ctx, `SELECT size FROM blob_uploads WHERE key = $1`, key).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
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
	var stored int64
	var offErr error
	err := s.write(ctx, func(w *pgTx) error {
		offErr = nil
		if _, err := w.tx.Exec(w.ctx, `INSERT INTO blob_uploads (key, size, created_ms, updated_ms) VALUES ($1, 0, $2, $2)
			ON CONFLICT (key) DO NOTHING`, key, now.UnixMilli()); err != nil {
			return err
		}
		// The row lock orders the processes that continue one upload.
		if err := w.tx.QueryRow(w.ctx, `SELECT size FROM blob_uploads WHERE key = $1 FOR UPDATE`, key).Scan(&stored); err != nil {
			return err
		}
		if at != stored {
			offErr = &server.UploadOffsetError{Stored: stored}
			return offErr
		}
		if _, err := w.tx.Exec(w.ctx, `INSERT INTO blob_upload_chunks (key, at, data) VALUES ($1, $2, $3)`, key, at, data); err != nil {
			return err
		}
		_, err := w.tx.Exec(w.ctx, `UPDATE blob_uploads SET size = $2, updated_ms = $3 WHERE key = $1`, key, at+int64(len(data)), now.UnixMilli())
		return err
	})
	if offErr != nil {
		return stored, offErr
	}
	if err != nil {
		return stored, fmt.Errorf("append upload: %w", err)
	}
	return at + int64(len(data)), nil
}

func (s *Store) FinishUpload(ctx context.Context, key string, check func([]byte) error, now time.Time) error {
	if err := checkKey(key); err != nil {
		return err
	}
	var checkErr error
	err := s.write(ctx, func(w *pgTx) error {
		checkErr = nil
		var n int64
		err := w.tx.QueryRow(w.ctx, `SELECT size FROM blob_uploads WHERE key = $1 FOR UPDATE`, key).Scan(&n)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		drop := func() error {
			if _, err := w.tx.Exec(w.ctx, `DELETE FROM blob_upload_chunks WHERE key = $1`, key); err != nil {
				return err
			}
			_, err := w.tx.Exec(w.ctx, `DELETE FROM blob_uploads WHERE key = $1`, key)
			return err
		}
		var exists bool
		if err := w.tx.QueryRow(w.ctx, `SELECT EXISTS (SELECT 1 FROM blobs WHERE key = $1)`, key).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return drop()
		}
		rows, err := w.tx.Query(w.ctx, `SELECT at, data FROM blob_upload_chunks WHERE key = $1 ORDER BY at`, key)
		if err != nil {
			return err
		}
		data := make([]byte, 0, n)
		for rows.Next() {
			var at int64
			var b []byte
			if err := rows.Scan(&at, &b); err != nil {
				rows.Close()
				return err
			}
			if at != int64(len(data)) {
				rows.Close()
				return fmt.Errorf("upload chunks out of order: %d after %d bytes", at, len(data))
			}
			data = append(data, b...)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if int64(len(data)) != n {
			return fmt.Errorf("the chunks hold %d bytes, %d were stored", len(data), n)
		}
		if err := check(data); err != nil {
			checkErr = err
			return drop() // committed: a bad upload is not kept
		}
		if _, err := w.tx.Exec(w.ctx, `INSERT INTO blobs (key, data, size, created_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING`,
			key, data, len(data), now.UnixMilli()); err != nil {
			return err
		}
		return drop()
	})
	if err != nil {
		return fmt.Errorf("finish upload: %w", err)
	}
	return checkErr
}

func (s *Store) Blobs(ctx context.Context, fn func(server.BlobInfo) error) error {
	rows, err := s.q().Query(ctx, `SELECT key, size, false, created_ms, created_ms, unreferenced_ms FROM blobs
		UNION ALL SELECT key, size, true, created_ms, updated_ms, NULL FROM blob_uploads`)
	if err != nil {
		return fmt.Errorf("list blobs: %w", err)
	}
	var all []server.BlobInfo
	for rows.Next() {
		var b server.BlobInfo
		var created, updated int64
		var unref *int64
		if err := rows.Scan(&b.Key, &b.Size, &b.Upload, &created, &updated, &unref); err != nil {
			rows.Close()
			return fmt.Errorf("list blobs: %w", err)
		}
		b.Created, b.Updated = time.UnixMilli(created), time.UnixMilli(updated)
		if unref != nil {
			t := time.UnixMilli(*unref)
			b.Unreferenced = &t
		}
		all = append(all, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list blobs: %w", err)
	}
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
	var v *int64
	if since != nil {
		ms := since.UnixMilli()
		v = &ms
	}
	if _, err := s.q().Exec(ctx, `UPDATE blobs SET unreferenced_ms = $2 WHERE key = $1`, key, v); err != nil {
		return fmt.Errorf("mark blob: %w", trouble(err))
	}
	return nil
}

func (s *Store) DeleteBlob(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	err := s.write(ctx, func(w *pgTx) error {
		for _, q := range []string{`DELETE FROM blobs WHERE key = $1`, `DELETE FROM blob_upload_chunks WHERE key = $1`, `DELETE FROM blob_uploads WHERE key = $1`} {
			if _, err := w.tx.Exec(w.ctx, q, key); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete blob: %w", err)
	}
	return nil
}

func (s *Store) PhotoReports(ctx context.Context, digest string) ([]server.PhotoReport, error) {
	return s.source().PhotoReports(ctx, digest)
}

func (s *Store) ReportWriters(ctx context.Context, report syncproto.RowID) ([]syncproto.ReplicaID, error) {
	tc := rowTables["field_reports"]
	if tc == nil {
		return nil, nil
	}
	// One statement: the blob and the row table's values of one moment;
	// the replica is resolved after the connection is given back.
	var blob []byte
	vals := make([]any, len(tc.Cols))
	dst := []any{&blob}
	for i := range vals {
		dst = append(dst, &vals[i])
	}
	err := s.q().QueryRow(ctx, `SELECT s.versions`+colList(", t.", tc.Cols)+` FROM sync_rows s LEFT JOIN field_reports t ON t.id = $2
		WHERE s.tbl = 'field_reports' AND s.row = $1`, report[:], report.String()).Scan(dst...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("writers of a report: %w", err)
	}
	vs, err := versions.Decode(blob, func(idx int64) (syncproto.ReplicaID, error) { return s.replica(ctx, s.q(), idx) }, tc.Values(vals))
	if err != nil {
		return nil, fmt.Errorf("writers of a report: %w", err)
	}
	return server.VersionWriters(vs), nil
}

func (s *Store) PhotoDigestsInUse(ctx context.Context) (map[string]bool, error) {
	in, err := s.source().PhotoDigestsInUse(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.q().Query(ctx, `SELECT loser_kind, loser_val FROM sync_conflicts WHERE tbl = 'field_reports' AND field = $1`, schema.PhotoDigestsField)
	if err != nil {
		return nil, fmt.Errorf("photos of conflicts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind int16
		var b []byte
		if err := rows.Scan(&kind, &b); err != nil {
			return nil, fmt.Errorf("photos of conflicts: %w", err)
		}
		v, err := decodeValue(kind, b)
		if err != nil {
			continue // a value this build cannot read names no photo it knows
		}
		for _, d := range schema.PhotoDigests(v.AsString()) {
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
