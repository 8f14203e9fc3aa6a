package sqlitestore

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
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
	args := make([]any, 0, 1+chunkSizes[0])
	for _, t := range tables {
		ids := byTable[t]
		err := chunks(len(ids), chunkSizes[0], func(i, j int) error {
			q := w.s.query(qkey{"load", "", j - i}, func() string {
				return `SELECT row, scope, parent, deleted, tomb_seq, versions FROM sync_rows WHERE tbl = ? AND row IN (?` +
					strings.Repeat(", ?", j-i-1) + `)`
			})
			args = append(args[:0], t)
			for _, id := range ids[i:j] {
				args = append(args, id[:])
			}
			rows, err := w.query(q, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var st server.RowState
				var id, parent, blob []byte
				var tomb int64
				if err := rows.Scan(&id, &st.Scope, &parent, &st.Deleted, &tomb, &blob); err != nil {
					return err
				}
				st.TombSeq = uint64(tomb)
				if len(parent) == 16 {
					copy(st.Parent[:], parent)
				}
				var ref server.RowRef
				ref.Table = t
				copy(ref.Row[:], id)
				if st.Versions, err = versions.Decode(blob, w.replica); err != nil {
					return fmt.Errorf("row %s: %w", ref.Row, err)
				}
				out[ref] = st
			}
			return rows.Err()
		})
		if err != nil {
			return nil, fmt.Errorf("load rows: %w", err)
		}
	}
	return out, nil
}

const rowCols = 7

func (w *writeTx) SaveRows(rs []server.RowSave) error {
	// Row states: multi-row upserts.
	states := make([]*server.RowSave, 0, len(rs))
	for i := range rs {
		if rs[i].State != nil {
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
			blob, err := versions.Encode(nil, st.Versions, func(r syncproto.ReplicaID) (int64, error) { return w.idx(r, true) })
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
