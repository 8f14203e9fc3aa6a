package sqlitestore

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The statements that read rows with their row table's values look every
// row up by its key: a push's LoadRows of a few hundred rows must not scan
// sync_rows (with json_each as the inner loop, SQLite read every row of
// the table for each id: a push grew slower with every row the server
// held), and a snapshot page must not scan the row table. The row tables
// are stored in id order (migration 0011): each lookup goes to the table's
// own key, not through an index to a page in insertion order (a random
// page per row of a clone).
func TestRowTableReadsLookRowsUpByKey(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "hamlet.db"), Options{Synchronous: "NORMAL"})
	require.NoError(t, err)
	defer s.Close()
	plan := func(q string, args ...any) string {
		rows, err := s.rdb.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
		require.NoError(t, err)
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			require.NoError(t, rows.Scan(&id, &parent, &notused, &detail))
			lines = append(lines, detail)
		}
		require.NoError(t, rows.Err())
		return strings.Join(lines, "\n")
	}
	for name, tc := range rowTables {
		p := plan(tc.loadSQL, `["6f9619ff-8b86-d011-b42d-00cf4fc964ff"]`)
		require.Contains(t, p, "SEARCH s USING PRIMARY KEY (tbl=? AND row=?)", "%s load:\n%s", name, p)
		require.Contains(t, p, "SEARCH t USING PRIMARY KEY (id=?)", "%s load:\n%s", name, p)
		for _, q := range []string{tc.snapshotFirst, tc.snapshotAfter} {
			args := []any{`["32002-01"]`, 10}
			if q == tc.snapshotAfter {
				args = append([]any{make([]byte, 16)}, args...)
			}
			p := plan(q, args...)
			require.Contains(t, p, "SEARCH s USING PRIMARY KEY (tbl=?", "%s snapshot:\n%s", name, p)
			require.Contains(t, p, "SEARCH t USING PRIMARY KEY (id=?)", "%s snapshot:\n%s", name, p)
		}
	}
}
