package pgstore

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// SnapshotRows walks sync_rows by its primary key (tbl, row) from q.After:
// the order never changes, so a resumed clone misses no row.
func (s *Store) SnapshotRows(ctx context.Context, q server.SnapshotQuery) ([]server.SnapshotRow, error) {
	if q.Limit <= 0 {
		q.Limit = 1000
	}
	if len(q.Scopes) == 0 {
		return nil, nil
	}
	conn, err := s.acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	rows, err := conn.Query(ctx, `SELECT tbl, row, scope, versions FROM sync_rows
		WHERE (tbl, row) > ($1, $2) AND scope = ANY($3)
		ORDER BY tbl, row LIMIT $4`, q.After.Table, q.After.Row[:], dedupe(q.Scopes), q.Limit)
	if err != nil {
		s.release(conn)
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	type raw struct {
		ref   server.RowRef
		scope string
		blob  []byte
	}
	var got []raw
	for rows.Next() {
		var r raw
		var id []byte
		if err := rows.Scan(&r.ref.Table, &id, &r.scope, &r.blob); err != nil {
			rows.Close()
			s.release(conn)
			return nil, fmt.Errorf("read snapshot: %w", err)
		}
		if r.ref.Row, err = uuid.FromBytes(id); err != nil {
			rows.Close()
			s.release(conn)
			return nil, fmt.Errorf("read snapshot: row id: %w", err)
		}
		got = append(got, r)
	}
	rows.Close()
	err = rows.Err()
	s.release(conn)
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	// Replica ids are looked up with the connection back in the pool (see
	// ReadLog).
	resolve := func(idx int64) (syncproto.ReplicaID, error) { return s.replica(ctx, s.pool, idx) }
	out := make([]server.SnapshotRow, len(got))
	for i, r := range got {
		fs, err := versions.DecodeList(nil, r.blob, resolve)
		if err != nil {
			return nil, fmt.Errorf("read snapshot: %s %s: %w", r.ref.Table, r.ref.Row, err)
		}
		out[i] = server.SnapshotRow{Ref: r.ref, Scope: r.scope, Fields: fs}
	}
	return out, nil
}

func (s *Store) SnapshotCount(ctx context.Context, scopes []string) (uint64, error) {
	if len(scopes) == 0 {
		return 0, nil
	}
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM sync_rows WHERE scope = ANY($1)`, dedupe(scopes)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count snapshot rows: %w", err)
	}
	return uint64(n), nil
}

func (s *Store) LogFloor(ctx context.Context, scopes []string) (uint64, error) {
	if len(scopes) == 0 {
		return 0, nil
	}
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM sync_log_floor WHERE scope = ANY($1)`, dedupe(scopes)).Scan(&n); err != nil {
		return 0, fmt.Errorf("read log floor: %w", err)
	}
	return uint64(n), nil
}
