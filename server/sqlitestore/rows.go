package sqlitestore

import (
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/internal/sqlread"
	"github.com/hamlet-vn/hamlet/syncproto"
)

func (w *writeTx) LoadRows(refs []server.RowRef) (map[server.RowRef]server.RowState, error) {
	out := make(map[server.RowRef]server.RowState, len(refs))
	byTable := map[string][]syncproto.RowID{}
	var tables []string
	for _, r := range refs {
		if _, ok := byTable[r.Table]; !ok {
			tables = append(tables, r.Table)
		}
		byTable[r.Table] = append(byTable[r.Table], r.Row)
	}
	for _, t := range tables {
		tc, err := rowTableOf(t)
		if err != nil {
			return nil, fmt.Errorf("load rows: %w", err)
		}
		ids := byTable[t]
		err = chunks(len(ids), chunkSizes[0], func(i, j int) error {
			rows, err := w.query(tc.loadSQL, idsJSON(ids[i:j]))
			if err != nil {
				return err
			}
			defer rows.Close()
			return scanRowStates(rows, tc, func(ref server.RowRef, st server.RowState) { out[ref] = st }, w.replica)
		})
		if err != nil {
			return nil, fmt.Errorf("load rows: %w", err)
		}
	}
	return out, nil
}

// scanRowStates reads the rows of a rowTable's loadSQL: each row's state,
// its versions decoded with the row table's values.
func scanRowStates(rows *sql.Rows, tc *rowTable, put func(server.RowRef, server.RowState), replica func(int64) (syncproto.ReplicaID, error)) error {
	vals := make([]any, 6+len(tc.Cols))
	var id, parent, blob []byte
	var tomb int64
	var st server.RowState
	ptrs := []any{&id, &st.Scope, &parent, &st.Deleted, &tomb, &blob}
	for i := 6; i < len(vals); i++ {
		ptrs = append(ptrs, &vals[i])
	}
	cols := tc.Values(vals[6:])
	for rows.Next() {
		st = server.RowState{}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		st.TombSeq = uint64(tomb)
		if len(parent) == 16 {
			copy(st.Parent[:], parent)
		}
		ref := server.RowRef{Table: tc.T.Name}
		copy(ref.Row[:], id)
		var err error
		if st.Versions, err = versions.Decode(blob, replica, cols); err != nil {
			return fmt.Errorf("row %s: %w", ref.Row, err)
		}
		put(ref, st)
	}
	return rows.Err()
}

// rowTable is a row table with the statement that loads row states with
// its values (sqlread.RowTable).
type rowTable struct {
	*sqlread.RowTable
	loadSQL string
	// snapshotFirst and snapshotAfter read a page of the table's rows
	// (snapshotSQL): from its first row, and after a given one.
	snapshotFirst, snapshotAfter string
}

var rowTables = func() map[string]*rowTable {
	out := map[string]*rowTable{}
	for name, rt := range sqlread.RowTables {
		// The ids come as one JSON array of their text (the row table's
		// key); sync_rows keys them by their 16 bytes. CROSS JOIN keeps
		// the ids the outer loop, so each is a key lookup: the planner
		// otherwise scans the table's sync_rows for each id
		// (TestRowTableReadsLookRowsUpByKey).
		out[name] = &rowTable{RowTable: rt, loadSQL: `SELECT s.row, s.scope, s.parent, s.deleted, s.tomb_seq, s.versions` +
			prefixedCols(", t.", rt.Cols) + ` FROM json_each(?) k CROSS JOIN sync_rows s ON s.tbl = '` + name +
			`' AND s.row = unhex(replace(k.value, '-', '')) LEFT JOIN ` + name + ` t ON t.id = k.value`}
		out[name].snapshotFirst, out[name].snapshotAfter = out[name].snapshotSQL(""), out[name].snapshotSQL("s.row > ? AND ")
	}
	return out
}()

func rowTableOf(table string) (*rowTable, error) {
	tc, ok := rowTables[table]
	if !ok {
		return nil, fmt.Errorf("unknown table %q", table)
	}
	return tc, nil
}

func prefixedCols(p string, cols []string) string {
	var b strings.Builder
	for _, c := range cols {
		b.WriteString(p + c)
	}
	return b.String()
}

// idsJSON is ids as one JSON array of their text, for json_each.
func idsJSON(ids []syncproto.RowID) string {
	b := make([]byte, 0, 2+39*len(ids))
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, id.String()...)
		b = append(b, '"')
	}
	return string(append(b, ']'))
}

const rowCols = 7

func (w *writeTx) SaveRows(rs []server.RowSave) error {
	// Row states: multi-row upserts. A saved state materialises all its
	// fields (materialized), the values its blob leaves out.
	states := make([]*server.RowSave, 0, len(rs))
	rs = slices.Clone(rs)
	for i := range rs {
		if rs[i].State != nil {
			rs[i].Fields = sqlread.Materialized(rs[i].Ref.Table, rs[i].State, rs[i].Fields)
			states = append(states, &rs[i])
		}
	}
	args := make([]any, 0, rowCols*chunkSizes[1])
	err := chunks(len(states), chunkSizes[1], func(i, j int) error {
		q := w.s.query(qkey{"rows", "", j - i}, func() string {
			return `INSERT INTO sync_rows (tbl, row, scope, parent, deleted, tomb_seq, versions) VALUES ` + placeholders(j-i, rowCols) +
				` ON CONFLICT (tbl, row) DO UPDATE SET scope = excluded.scope, parent = excluded.parent,
				deleted = excluded.deleted, tomb_seq = excluded.tomb_seq, versions = excluded.versions`
		})
		args = args[:0]
		for _, r := range states[i:j] {
			st := r.State
			var parent any
			if st.Parent != (syncproto.RowID{}) {
				parent = st.Parent[:]
			}
			blob, err := versions.Encode(nil, st.Versions, func(r syncproto.ReplicaID) (int64, error) { return w.idx(r, true) }, sqlread.StoredIn(r.Fields))
			if err != nil {
				return err
			}
			args = append(args, r.Ref.Table, r.Ref.Row[:], st.Scope, parent, st.Deleted, int64(st.TombSeq), blob)
		}
		_, err := w.exec(q, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("save rows: %w", err)
	}

	// Materialised rows: grouped by table and field set, multi-row upserts.
	type group struct {
		t     *schema.Table
		names []string
		rows  []*server.RowSave
	}
	groups := map[string]*group{}
	var order []string
	var names []string
	for i := range rs {
		r := &rs[i]
		if len(r.Fields) == 0 {
			continue
		}
		t, ok := schema.LookupTable(r.Ref.Table)
		if !ok {
			return fmt.Errorf("materialize: unknown table %q", r.Ref.Table)
		}
		names = names[:0]
		for f := range r.Fields {
			if _, ok := t.Field(f); !ok {
				return fmt.Errorf("materialize: table %s has no field %q", t.Name, f)
			}
			names = append(names, f)
		}
		sort.Strings(names)
		key := t.Name + "(" + strings.Join(names, ",") + ")"
		g := groups[key]
		if g == nil {
			g = &group{t: t, names: slices.Clone(names)}
			groups[key] = g
			order = append(order, key)
		}
		g.rows = append(g.rows, r)
	}
	for _, key := range order {
		g := groups[key]
		cols := len(g.names) + 1
		maxRows := max(1, min(chunkSizes[1], 900/cols))
		err := chunks(len(g.rows), maxRows, func(i, j int) error {
			q := w.s.query(qkey{"mat", key, j - i}, func() string { return materializeSQL(g.t.Name, g.names, j-i) })
			args = args[:0]
			for _, r := range g.rows[i:j] {
				args = append(args, r.Ref.Row.String())
				for _, n := range g.names {
					v := r.Fields[n]
					if n == schema.DeletedField && v.IsNull() {
						args = append(args, false) // the column is NOT NULL
						continue
					}
					args = append(args, versions.SQLValue(v))
				}
			}
			_, err := w.exec(q, args...)
			return err
		})
		if err != nil {
			return fmt.Errorf("materialize %s rows: %w", g.t.Name, err)
		}
	}
	return nil
}

func materializeSQL(table string, names []string, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (id")
	for _, n := range names {
		b.WriteString(", " + n)
	}
	b.WriteString(") VALUES " + placeholders(rows, len(names)+1))
	if len(names) > 0 {
		b.WriteString(" ON CONFLICT (id) DO UPDATE SET ")
		for i, n := range names {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(n + " = excluded." + n)
		}
	} else {
		b.WriteString(" ON CONFLICT (id) DO NOTHING")
	}
	return b.String()
}
