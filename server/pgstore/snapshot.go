package pgstore

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

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
	type raw struct {
		ref   server.RowRef
		scope string
		blob  []byte
		vals  []any // the row table's values (rowTable.Cols)
	}
	var got []raw
	// sync_rows and the row tables in one snapshot of the database: a
	// value read from a row table is the one its version names.
	err = pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT tbl, row, scope, versions FROM sync_rows
			WHERE (tbl, row) > ($1, $2) AND scope = ANY($3)
			ORDER BY tbl, row LIMIT $4`, q.After.Table, q.After.Row[:], server.DistinctScopes(q.Scopes), q.Limit)
		if err != nil {
			return err
		}
		byTable := map[string][]int{}
		fields := 0
		for rows.Next() {
			var r raw
			var id []byte
			if err := rows.Scan(&r.ref.Table, &id, &r.scope, &r.blob); err != nil {
				rows.Close()
				return err
			}
			if r.ref.Row, err = uuid.FromBytes(id); err != nil {
				rows.Close()
				return fmt.Errorf("row id: %w", err)
			}
			if versions.InTable(r.blob) {
				byTable[r.ref.Table] = append(byTable[r.ref.Table], len(got))
			}
			got = append(got, r)
			// Past the caller's budget (MaxFields): the rest is not sent.
			n, ok := versions.Fields(r.blob)
			if !ok {
				n = 1
			}
			if fields += n; q.MaxFields > 0 && len(got) > 1 && fields > q.MaxFields {
				break
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for table, at := range byTable {
			tc := rowTables[table]
			if tc == nil {
				return fmt.Errorf("unknown table %q", table)
			}
			ids := make([]string, len(at))
			pos := make(map[string]int, len(at))
			for i, k := range at {
				ids[i] = got[k].ref.Row.String()
				pos[ids[i]] = k
			}
			rows, err := tx.Query(ctx, `SELECT id`+colList(", ", tc.Cols)+` FROM `+table+` WHERE id = ANY($1)`, ids)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id string
				vals := make([]any, len(tc.Cols))
				dst := []any{&id}
				for i := range vals {
					dst = append(dst, &vals[i])
				}
				if err := rows.Scan(dst...); err != nil {
					rows.Close()
					return err
				}
				if k, ok := pos[id]; ok {
					got[k].vals = vals
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	s.release(conn)
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	// Replica ids are looked up with the connection back in the pool (see
	// ReadLog).
	resolve := func(idx int64) (syncproto.ReplicaID, error) { return s.replica(ctx, s.pool, idx) }
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

func (s *Store) SnapshotCount(ctx context.Context, scopes []string) (uint64, error) {
	if len(scopes) == 0 {
		return 0, nil
	}
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM sync_rows WHERE scope = ANY($1)`, server.DistinctScopes(scopes)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count snapshot rows: %w", err)
	}
	return uint64(n), nil
}

func (s *Store) LogFloor(ctx context.Context, scopes []string) (uint64, error) {
	if len(scopes) == 0 {
		return 0, nil
	}
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM sync_log_floor WHERE scope = ANY($1)`, server.DistinctScopes(scopes)).Scan(&n); err != nil {
		return 0, fmt.Errorf("read log floor: %w", err)
	}
	return uint64(n), nil
}
