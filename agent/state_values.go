package agent

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/internal/migrate"
	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A row's current values live once, in its row table (issue 20: metadata
// under 1.0): the row state leaves out every current value the projection
// holds exactly (state_compact.go, 0xc2), and every reader of row states
// reads the row table beside them (decodeRows). The projection is written
// in the same transaction as the state (save, saveMany), so the two agree
// whenever a transaction ends.

// columnKind is the kind of value a column of declared type typ gives back
// exactly as it was given: SQLite's type affinity converts the others (a
// text "12" in an INTEGER column reads back 12).
func columnKind(typ string) (syncproto.Kind, bool) {
	switch strings.ToUpper(strings.TrimSpace(typ)) {
	case "TEXT":
		return syncproto.KindString, true
	case "INTEGER":
		return syncproto.KindInt, true
	case "REAL":
		return syncproto.KindFloat, true
	}
	return 0, false
}

// stored is what the row table holds of s once s is saved and projected
// (projectArgs): a current value whose kind is its column's. Anything
// else, and the values versions.Encode itself keeps (a float SQLite would
// change, null, bools), stays in the blob.
func (r *Replica) stored(s *rowState) versions.Columns {
	kinds := r.colKinds[s.table]
	if len(kinds) == 0 || len(r.cols[s.table]) == 0 {
		return nil
	}
	return func(f string) (any, bool) {
		k, ok := kinds[f]
		v := s.cur[f]
		if !ok || v == nil || v.Value.Kind() != k {
			return nil, false
		}
		return columnValue(v.Value), true
	}
}

// rawState is a row_state row as read, before decoding.
type rawState struct {
	id    syncproto.RowID
	table string
	scope string
	blob  []byte
}

// needsColumns reports whether blob takes values from the row table.
func needsColumns(blob []byte) bool { return len(blob) > 0 && blob[0] == stateColumns }

// rowValues is one row of a row table: its columns' values, in cols order.
type rowValues struct {
	cols []string
	vals []any
}

func (v *rowValues) columns() versions.Columns {
	if v == nil {
		return nil
	}
	return func(f string) (any, bool) {
		for i, c := range v.cols {
			if c == f {
				return v.vals[i], true
			}
		}
		return nil, false
	}
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// rowChunk is how many ids one row-table read asks for.
const rowChunk = 500

// readRowValues reads the row-table values of ids of table (rows the
// table does not hold are absent).
func (r *Replica) readRowValues(ctx context.Context, q queryer, table string, ids []syncproto.RowID) (map[syncproto.RowID]*rowValues, error) {
	cols := r.cols[table]
	out := make(map[syncproto.RowID]*rowValues, len(ids))
	if len(cols) == 0 || len(ids) == 0 {
		return out, nil
	}
	sel := `SELECT id, ` + strings.Join(cols, ", ") + ` FROM ` + table
	for i := 0; i < len(ids); i += rowChunk {
		part := ids[i:min(i+rowChunk, len(ids))]
		var rows *sql.Rows
		var err error
		if len(part) == 1 {
			rows, err = q.QueryContext(ctx, sel+` WHERE id = ?`, part[0].String())
		} else {
			rows, err = q.QueryContext(ctx, sel+` WHERE id IN (SELECT value FROM json_each(?))`, jsonIDs(part))
		}
		if err != nil {
			return nil, fmt.Errorf("read the row table %s: %w", table, err)
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols)+1)
			var idText string
			ptrs[0] = &idText
			for k := range vals {
				ptrs[k+1] = &vals[k]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read the row table %s: %w", table, err)
			}
			id, err := uuid.Parse(idText)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("read the row table %s: %w", table, err)
			}
			out[id] = &rowValues{cols: cols, vals: vals}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read the row table %s: %w", table, err)
		}
	}
	return out, nil
}

// decodeRows decodes row states, reading the row-table values of those
// that keep their current values there; out[i] is raws[i]'s.
func (r *Replica) decodeRows(ctx context.Context, q queryer, raws []rawState) ([]*rowState, error) {
	byTable := map[string][]syncproto.RowID{}
	for i := range raws {
		if needsColumns(raws[i].blob) && len(r.cols[raws[i].table]) > 0 {
			byTable[raws[i].table] = append(byTable[raws[i].table], raws[i].id)
		}
	}
	vals := map[string]map[syncproto.RowID]*rowValues{}
	for table, ids := range byTable {
		m, err := r.readRowValues(ctx, q, table, ids)
		if err != nil {
			return nil, err
		}
		vals[table] = m
	}
	out := make([]*rowState, len(raws))
	for i := range raws {
		raw := &raws[i]
		var cols versions.Columns
		if m := vals[raw.table]; m != nil {
			cols = m[raw.id].columns()
		}
		s, err := decodeState(raw.table, raw.id, raw.scope, raw.blob, cols)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// txQueryer runs a transaction's queries through its prepared statements.
type txQueryer struct{ t *txn }

func (q txQueryer) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := q.t.stmt(query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// q is the transaction as a queryer of row-table values.
func (t *txn) q() queryer { return txQueryer{t} }

// rowTableColumns are the row tables' columns (without id), in declaration
// order, as this build's data model makes them (sch; the current one when
// nil): read from a database in memory that the migrations build.
func rowTableColumns(ctx context.Context, sch *schema.Registry) (map[string][]string, error) {
	if sch == nil {
		sch = schema.Current()
	}
	db, err := sql.Open("sqlite", "file:rowtables?mode=memory")
	if err != nil {
		return nil, fmt.Errorf("row tables' columns: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := migrate.Apply(ctx, db, schema.MigrationSet, sch.SQLiteMigrations()); err != nil {
		return nil, fmt.Errorf("row tables' columns: %w", err)
	}
	r := &Replica{db: db, sch: sch}
	if err := r.loadColumns(ctx); err != nil {
		return nil, fmt.Errorf("row tables' columns: %w", err)
	}
	return r.cols, nil
}

// restateMigration (agent migration 8) marks the replica's row states for
// rewriting into the format that leaves current values to the row table:
// restate does it on Open, in chunks, the marker holding the last id done,
// so a cut Open goes on where it stopped. States of earlier formats
// still decode as they are; until rewritten they only take more room.
//
// It also drops row_state's search text (folded): a search folds the row
// table's columns as it reads them (Search).
const restateMigration = `INSERT INTO agent_meta (key, value) VALUES ('` + metaRestate + `', '') ON CONFLICT (key) DO NOTHING;
ALTER TABLE row_state DROP COLUMN folded;`

const metaRestate = "restate_after"

// restateChunk is how many row states one transaction of restate rewrites.
const restateChunk = 500

// restate rewrites the row states that carry their current values into
// the current format (restateMigration). A value is left to the row table
// only where the row table holds it exactly now (read, not assumed).
func (r *Replica) restate(ctx context.Context) error {
	for {
		after, err := r.meta(ctx, r.db, metaRestate)
		if err != nil {
			return err
		}
		var marked bool
		if err := r.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM agent_meta WHERE key = ?)`, metaRestate).Scan(&marked); err != nil {
			return fmt.Errorf("rewrite row states: %w", err)
		}
		if !marked {
			return nil
		}
		done, err := r.restateChunk(ctx, after)
		if err != nil {
			return fmt.Errorf("rewrite row states: %w", err)
		}
		if done {
			return nil
		}
	}
}

func (r *Replica) restateChunk(ctx context.Context, after string) (bool, error) {
	t, err := r.begin(ctx)
	if err != nil {
		return false, err
	}
	defer t.rollback()
	rows, err := t.tx.QueryContext(ctx, `SELECT id, tbl, scope, state FROM row_state WHERE id > ? ORDER BY id LIMIT ?`, after, restateChunk)
	if err != nil {
		return false, err
	}
	raws, n, after, err := scanRawStates(rows, after, func(blob []byte) bool { return !needsColumns(blob) })
	if err != nil {
		return false, err
	}
	states, err := r.decodeRows(ctx, t.q(), raws)
	if err != nil {
		return false, err
	}
	byTable := map[string][]syncproto.RowID{}
	for _, s := range states {
		byTable[s.table] = append(byTable[s.table], s.id)
	}
	vals := map[string]map[syncproto.RowID]*rowValues{}
	for table, ids := range byTable {
		if vals[table], err = r.readRowValues(ctx, t.q(), table, ids); err != nil {
			return false, err
		}
	}
	for _, s := range states {
		held := vals[s.table][s.id].columns()
		kinds := r.colKinds[s.table]
		var stored versions.Columns
		if held != nil {
			stored = func(f string) (any, bool) {
				v := s.cur[f]
				if k, ok := kinds[f]; !ok || v == nil || v.Value.Kind() != k {
					return nil, false
				}
				return held(f)
			}
		}
		blob, err := s.encode(stored)
		if err != nil {
			return false, err
		}
		if err := t.exec(`UPDATE row_state SET state = ? WHERE id = ?`, blob, s.idText()); err != nil {
			return false, err
		}
	}
	done := n < restateChunk
	if done {
		err = t.exec(`DELETE FROM agent_meta WHERE key = ?`, metaRestate)
	} else {
		err = t.setMeta(metaRestate, after)
	}
	if err != nil {
		return false, err
	}
	return done, t.commit()
}

// scanRawStates reads rows of (id, tbl, scope, state) walked by id in
// chunks, and closes them: the states keep would decode (all when keep is
// nil), how many rows were read, and the last id read (after when none).
func scanRawStates(rows *sql.Rows, after string, keep func(blob []byte) bool) ([]rawState, int, string, error) {
	defer rows.Close()
	var raws []rawState
	n := 0
	for rows.Next() {
		var idText, table, scope string
		var blob []byte
		if err := rows.Scan(&idText, &table, &scope, &blob); err != nil {
			return nil, 0, after, err
		}
		n++
		after = idText
		if keep != nil && !keep(blob) {
			continue
		}
		id, err := uuid.Parse(idText)
		if err != nil {
			return nil, 0, after, err
		}
		raws = append(raws, rawState{id: id, table: table, scope: scope, blob: blob})
	}
	return raws, n, after, rows.Err()
}
