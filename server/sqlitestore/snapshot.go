package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// scopesJSON passes a scope list to SQLite as one JSON array (json_each).
func scopesJSON(scopes []string) string {
	b, _ := json.Marshal(server.DistinctScopes(scopes))
	return string(b)
}

// snapshotSQL reads a page of one table's rows with their row table's
// values (the values the versions blobs leave out), in one statement: one
// moment of the database for each row's blob and values. The row table is
// keyed by the id's text, sync_rows by its 16 bytes.
func (tc *rowTable) snapshotSQL(after string) string {
	return `SELECT s.row, s.scope, s.versions` + prefixedCols(", t.", tc.Cols) + ` FROM sync_rows s LEFT JOIN ` + tc.T.Name +
		` t ON t.id = lower(substr(hex(s.row), 1, 8) || '-' || substr(hex(s.row), 9, 4) || '-' || substr(hex(s.row), 13, 4) || '-' ||
		substr(hex(s.row), 17, 4) || '-' || substr(hex(s.row), 21))
		WHERE s.tbl = '` + tc.T.Name + `' AND ` + after + `s.scope IN (SELECT value FROM json_each(?)) ORDER BY s.row LIMIT ?`
}

// snapshotTables are the synced tables in sync_rows' order.
var snapshotTables = func() []*rowTable {
	out := make([]*rowTable, 0, len(rowTables))
	for _, tc := range rowTables {
		out = append(out, tc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].T.Name < out[j].T.Name })
	return out
}()

func (s *Store) SnapshotRows(ctx context.Context, q server.SnapshotQuery) ([]server.SnapshotRow, error) {
	if q.Limit <= 0 {
		q.Limit = 1000
	}
	if len(q.Scopes) == 0 {
		return nil, nil
	}
	type raw struct {
		ref   server.RowRef
		scope string
		blob  []byte
		vals  []any // the row table's values (rowTable.Cols)
	}
	var got []raw
	scopes := scopesJSON(q.Scopes)
	fields := 0
	full := func() bool {
		return len(got) >= q.Limit || (q.MaxFields > 0 && len(got) > 1 && fields > q.MaxFields)
	}
	// Table by table in (tbl, row) order, each from the row after After
	// in its own table and from the start in the tables after it.
	for _, tc := range snapshotTables {
		if tc.T.Name < q.After.Table || full() {
			continue
		}
		q1, args := tc.snapshotFirst, []any{scopes, q.Limit - len(got)}
		if tc.T.Name == q.After.Table {
			q1, args = tc.snapshotAfter, append([]any{q.After.Row[:]}, args...)
		}
		err := func() error {
			rows, err := s.rdb.QueryContext(ctx, q1, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			var id []byte
			dst := make([]any, 3+len(tc.Cols))
			for rows.Next() {
				r := raw{ref: server.RowRef{Table: tc.T.Name}, vals: make([]any, len(tc.Cols))}
				dst[0], dst[1], dst[2] = &id, &r.scope, &r.blob
				for i := range r.vals {
					dst[3+i] = &r.vals[i]
				}
				if err := rows.Scan(dst...); err != nil {
					return err
				}
				if r.ref.Row, err = uuid.FromBytes(id); err != nil {
					return fmt.Errorf("row id: %w", err)
				}
				got = append(got, r)
				if n, ok := versions.Fields(r.blob); ok {
					fields += n
				} else {
					fields++ // an earlier build's blob: count no early stop on it
				}
				if full() {
					break
				}
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, fmt.Errorf("read snapshot: %w", err)
		}
	}
	// Replica ids are resolved after the rows are read (replicaOf may
	// need a connection of the pool).
	resolve := func(idx int64) (syncproto.ReplicaID, error) { return s.replicaOf(ctx, idx) }
	out := make([]server.SnapshotRow, len(got))
	for i, r := range got {
		fs, err := versions.DecodeList(nil, r.blob, resolve, rowTables[r.ref.Table].Values(r.vals))
		if err != nil {
			return nil, fmt.Errorf("read snapshot: %s %s: %w", r.ref.Table, r.ref.Row, err)
		}
		out[i] = server.SnapshotRow{Ref: r.ref, Scope: r.scope, Fields: fs}
	}
	return out, nil
}

// SnapshotLosses implements server.SnapshotStore.
func (s *Store) SnapshotLosses(ctx context.Context, table string, rows []syncproto.RowID) ([]syncproto.LostWrite, error) {
	return s.src.SnapshotLosses(ctx, table, rows)
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
