package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// scopesJSON passes a scope list to SQLite as one JSON array (json_each).
func scopesJSON(scopes []string) string {
	b, _ := json.Marshal(dedupe(scopes))
	return string(b)
}

const sqliteSnapshotRows = `SELECT tbl, row, scope, versions FROM sync_rows
	WHERE (tbl, row) > (?, ?) AND scope IN (SELECT value FROM json_each(?))
	ORDER BY tbl, row LIMIT ?`

func (s *Store) SnapshotRows(ctx context.Context, q server.SnapshotQuery) ([]server.SnapshotRow, error) {
	if q.Limit <= 0 {
		q.Limit = 1000
	}
	if len(q.Scopes) == 0 {
		return nil, nil
	}
	rows, err := s.rdb.QueryContext(ctx, sqliteSnapshotRows, q.After.Table, q.After.Row[:], scopesJSON(q.Scopes), q.Limit)
	if err != nil {
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
			return nil, fmt.Errorf("read snapshot: %w", err)
		}
		if r.ref.Row, err = uuid.FromBytes(id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read snapshot: row id: %w", err)
		}
		got = append(got, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	// Replica ids are resolved after the rows are read (replicaOf may
	// need a connection of the pool).
	resolve := func(idx int64) (syncproto.ReplicaID, error) { return s.replicaOf(ctx, idx) }
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
	if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM sync_rows WHERE scope IN (SELECT value FROM json_each(?))`,
		scopesJSON(scopes)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count snapshot rows: %w", err)
	}
	return uint64(n), nil
}

func (s *Store) LogFloor(ctx context.Context, scopes []string) (uint64, error) {
	if len(scopes) == 0 {
		return 0, nil
	}
	var n sql.NullInt64
	if err := s.rdb.QueryRowContext(ctx, `SELECT MAX(seq) FROM sync_log_floor WHERE scope IN (SELECT value FROM json_each(?))`,
		scopesJSON(scopes)).Scan(&n); err != nil {
		return 0, fmt.Errorf("read log floor: %w", err)
	}
	return uint64(n.Int64), nil
}
