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
	type raw struct {
		ref   server.RowRef
		scope string
		blob  []byte
		vals  []any // the row table's values (rowTable.cols)
	}
	var got []raw
	// sync_rows and the row tables in one read transaction: one moment of
	// the database, so a value read from a row table is the one its
	// version names.
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, sqliteSnapshotRows, q.After.Table, q.After.Row[:], scopesJSON(q.Scopes), q.Limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		byTable := map[string][]int{}
		for rows.Next() {
			var r raw
			var id []byte
			if err := rows.Scan(&r.ref.Table, &id, &r.scope, &r.blob); err != nil {
				return err
			}
			if r.ref.Row, err = uuid.FromBytes(id); err != nil {
				return fmt.Errorf("row id: %w", err)
			}
			if versions.InTable(r.blob) {
				byTable[r.ref.Table] = append(byTable[r.ref.Table], len(got))
			}
			got = append(got, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		for table, at := range byTable {
			tc, err := rowTableOf(table)
			if err != nil {
				return err
			}
			ids := make([]syncproto.RowID, len(at))
			for i, k := range at {
				ids[i] = got[k].ref.Row
			}
			vals, err := readRowTable(ctx, tx, tc, ids)
			if err != nil {
				return err
			}
			for _, k := range at {
				got[k].vals = vals[got[k].ref.Row]
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	// Replica ids are resolved after the rows are read (replicaOf may
	// need a connection of the pool).
	resolve := func(idx int64) (syncproto.ReplicaID, error) { return s.replicaOf(ctx, idx) }
	out := make([]server.SnapshotRow, len(got))
	for i, r := range got {
		var cols versions.Columns
		if tc := rowTables[r.ref.Table]; tc != nil {
			cols = tc.Values(r.vals)
		}
		fs, err := versions.DecodeList(nil, r.blob, resolve, cols)
		if err != nil {
			return nil, fmt.Errorf("read snapshot: %s %s: %w", r.ref.Table, r.ref.Row, err)
		}
		out[i] = server.SnapshotRow{Ref: r.ref, Scope: r.scope, Fields: fs}
	}
	return out, nil
}

// readTx runs fn in one read transaction on the read pool.
func (s *Store) readTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // read only: nothing to keep
	return fn(tx)
}

// readRowTable reads the row table's values (tc.Cols) of the rows ids.
func readRowTable(ctx context.Context, tx *sql.Tx, tc *rowTable, ids []syncproto.RowID) (map[syncproto.RowID][]any, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id`+prefixedCols(", ", tc.Cols)+` FROM `+tc.T.Name+
		` WHERE id IN (SELECT value FROM json_each(?))`, idsJSON(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[syncproto.RowID][]any, len(ids))
	for rows.Next() {
		var id string
		vals := make([]any, len(tc.Cols))
		ptrs := make([]any, 1+len(vals))
		ptrs[0] = &id
		for i := range vals {
			ptrs[1+i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		u, err := uuid.Parse(id)
		if err != nil {
			return nil, fmt.Errorf("%s row id: %w", tc.T.Name, err)
		}
		out[u] = vals
	}
	return out, rows.Err()
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
