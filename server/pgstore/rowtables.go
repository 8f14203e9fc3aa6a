package pgstore

import (
	"strings"

	"github.com/hamlet-vn/hamlet/server/internal/sqlread"
)

// rowTable is a row table with the statement that loads row states with
// its values (sqlread.RowTable: a field's current value lives in its row
// table, not in the versions blob).
type rowTable struct {
	*sqlread.RowTable
	loadSQL string
}

var rowTables = func() map[string]*rowTable {
	out := map[string]*rowTable{}
	for name, rt := range sqlread.RowTables {
		// $1 the ids' bytes (sync_rows' key), $2 their text (the row
		// table's key), in the same order.
		out[name] = &rowTable{RowTable: rt, loadSQL: `SELECT r.row, ` + prefixed("r.", rowCols) + colList(", t.", rt.Cols) +
			` FROM unnest($1::bytea[], $2::text[]) AS k(row, id) JOIN sync_rows r ON r.tbl = '` + name + `' AND r.row = k.row
			LEFT JOIN ` + name + ` t ON t.id = k.id`}
	}
	return out
}()

func colList(p string, cols []string) string {
	var b strings.Builder
	for _, c := range cols {
		b.WriteString(p + c)
	}
	return b.String()
}
