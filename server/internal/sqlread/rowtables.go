package sqlread

import (
	"slices"

	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A synced row's current values live once, in its row table (issue 20:
// metadata under 1.0): the versions blob of sync_rows leaves out every
// value the row table holds exactly (versions.Encode), and the stores read
// the two together. What follows is that contract, the same in both
// stores.

// RowTable is a synced table's row table as the stores read it beside
// sync_rows: the columns a version's value can live in (every field but
// the tombstone, a bool the versions keep themselves).
type RowTable struct {
	T    *schema.Table
	Cols []string
	pos  map[string]int
}

// RowTables are the synced tables', by name.
var RowTables = func() map[string]*RowTable {
	out := map[string]*RowTable{}
	for _, t := range schema.SyncedTables() {
		tc := &RowTable{T: t, pos: map[string]int{}}
		for _, f := range t.Fields {
			if f.Name == schema.DeletedField {
				continue
			}
			tc.pos[f.Name] = len(tc.Cols)
			tc.Cols = append(tc.Cols, f.Name)
		}
		out[t.Name] = tc
	}
	return out
}()

// Values is versions.Columns over one row's values of Cols, in order (nil:
// the row table has no such row).
func (tc *RowTable) Values(vals []any) versions.Columns {
	return func(f string) (any, bool) {
		i, ok := tc.pos[f]
		if !ok || vals == nil {
			return nil, false
		}
		return vals[i], true
	}
}

// Materialized is what a store writes into table's row table when it
// saves a row's state: every field of its versions that the table has (so
// each value a blob leaves out is the row table's, whatever wrote the row
// before), then what the save asks besides (RowSave.Fields: the change's
// values, the server's own hamlet_code of a child row). A null tombstone is
// stored false (the column is NOT NULL).
func Materialized(table string, st *server.RowState, fields map[string]syncproto.Value) map[string]syncproto.Value {
	out := make(map[string]syncproto.Value, len(st.Versions)+len(fields))
	t, _ := schema.LookupTable(table)
	for f, v := range st.Versions {
		if t != nil {
			if _, ok := t.Field(f); ok {
				out[f] = v.Value
			}
		}
	}
	for f, v := range fields {
		out[f] = v
	}
	if v, ok := out[schema.DeletedField]; ok && v.IsNull() {
		out[schema.DeletedField] = syncproto.Bool(false)
	}
	return out
}

// StoredIn is versions.Columns over what Materialized gives: what the row
// table holds of the row once it is saved.
func StoredIn(mat map[string]syncproto.Value) versions.Columns {
	return func(f string) (any, bool) {
		v, ok := mat[f]
		if !ok {
			return nil, false
		}
		return versions.SQLValue(v), true
	}
}

// ForgetBases clears the base of each version of vs whose write dots names
// for its field (server.GCTx.ForgetBases) and says how many it cleared.
func ForgetBases(vs map[string]syncproto.Version, dots map[string][]syncproto.Dot) int {
	n := 0
	for f, ds := range dots {
		v, ok := vs[f]
		if !ok || v.Base.IsZero() || !slices.Contains(ds, v.Dot) {
			continue
		}
		v.Base = syncproto.Dot{}
		vs[f] = v
		n++
	}
	return n
}
