package agent

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
)

// freshColumns reads r's row tables' columns from its file, no answer
// kept in the process consulted.
func freshColumns(t *testing.T, r *Replica) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, tb := range r.sch.Tables() {
		rows, err := r.db.Query(`SELECT name FROM pragma_table_info(?) ORDER BY cid`, tb.Name)
		require.NoError(t, err)
		for rows.Next() {
			var c string
			require.NoError(t, rows.Scan(&c))
			if c != "id" {
				out[tb.Name] = append(out[tb.Name], c)
			}
		}
		require.NoError(t, rows.Err())
		rows.Close()
	}
	return out
}

// Replicas of the previous schema and of the current one, opened in turn
// in one process (internal/simtest runs both), and a previous one
// upgraded in place: each has its own file's columns, not the ones an
// earlier open of the other version kept.
func TestColumnsSeenAcrossSchemaVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	prev, err := schema.At(schema.Version - 1)
	require.NoError(t, err)
	open := func(name string, sch *schema.Registry) *Replica {
		r, err := OpenWith(ctx, filepath.Join(dir, name), Options{Schema: sch})
		require.NoError(t, err)
		require.Equal(t, freshColumns(t, r), r.cols, "%s at schema %d", name, sch.Version())
		return r
	}
	for _, step := range []struct {
		name string
		sch  *schema.Registry
	}{
		{"p1.db", prev}, {"c1.db", schema.Current()}, {"p2.db", prev}, {"c2.db", schema.Current()},
		{"p1.db", prev}, {"p1.db", schema.Current()}, {"p2.db", schema.Current()}, {"p3.db", prev},
	} {
		r := open(step.name, step.sch)
		require.NoError(t, r.Close())
	}
	old, err := rowTableColumns(ctx, prev)
	require.NoError(t, err)
	cur, err := rowTableColumns(ctx, nil)
	require.NoError(t, err)
	require.NotContains(t, old["field_reports"], schema.PhotoDigestsField)
	require.Contains(t, cur["field_reports"], schema.PhotoDigestsField)
}
