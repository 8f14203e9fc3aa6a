package sqlread_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/pgstore"
	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// countedSource counts the times the model reads the units; it passes the
// units' version on, so the model may keep its tree.
type countedSource struct {
	analytics.Source
	units int
}

func (c *countedSource) Units(ctx context.Context) ([]schema.AdminUnit, error) {
	c.units++
	return c.Source.Units(ctx)
}

func (c *countedSource) UnitsVersion(ctx context.Context) (int64, error) {
	return c.Source.(analytics.UnitsVersioner).UnitsVersion(ctx)
}

// The read model (server/analytics) over this package's Source, on both
// stores, builds its unit tree again only when the units changed,
// and whenever they did: through the store, or by SQL of another process
// (the CLI, an operator at the database), on either table. A tree kept
// past a change answers with old names, parents and children; one built
// at every question was a tenth of the simulation's CPU (issue 17).
func TestReadModelUnitsFollowEveryChange(t *testing.T) {
	stores := []struct {
		name  string
		start func(t *testing.T) (*servertest.TS, func(q string, args ...any))
	}{
		{"sqlite", func(t *testing.T) (*servertest.TS, func(string, ...any)) {
			ts := servertest.Start(t)
			// A second process on the same file.
			db, err := sql.Open("sqlite", "file:"+filepath.Join(ts.DataDir, "hamlet.db")+"?_pragma=busy_timeout(10000)")
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			return ts, func(q string, args ...any) {
				_, err := db.Exec(q, args...)
				require.NoError(t, err, q)
			}
		}},
		{"postgres", func(t *testing.T) (*servertest.TS, func(string, ...any)) {
			url := pgtest.FreshDB(t)
			st, err := pgstore.Open(context.Background(), url, pgstore.Options{MaxConns: 8, Logger: servertest.Logger()})
			require.NoError(t, err)
			ts := servertest.Start(t, servertest.WithStore(st))
			conn, err := pgx.Connect(context.Background(), url)
			require.NoError(t, err)
			t.Cleanup(func() { conn.Close(context.Background()) })
			return ts, func(q string, args ...any) {
				n := 0
				for i := 0; i < len(q); i++ { // '?' to $n
					if q[i] == '?' {
						n++
						q = q[:i] + "$" + string(rune('0'+n)) + q[i+1:]
					}
				}
				_, err := conn.Exec(context.Background(), q, args...)
				require.NoError(t, err, q)
			}
		}},
	}
	for _, store := range stores {
		t.Run(store.name, func(t *testing.T) {
			ctx := context.Background()
			ts, exec := store.start(t)
			src := &countedSource{Source: ts.Store.AnalyticsSource()}
			_, versioned := src.Source.(analytics.UnitsVersioner)
			require.True(t, versioned, "the store's read-model source tells the units' version")
			x := analytics.New(src, nil)
			h, communeA := ts.HamletsA[0], servertest.CommuneA
			unit := func(code string) *analytics.UnitDetail {
				t.Helper()
				d, err := x.Unit(ctx, code)
				require.NoError(t, err, code)
				return d
			}
			name := unit(h).Unit.Name
			children := unit(communeA).Unit.Children
			require.Equal(t, 1, src.units, "the first question reads the units")
			unit(h)
			require.NoError(t, x.Refresh(ctx))
			require.Equal(t, 1, src.units, "units unchanged: the tree is kept")

			// Another process renames the hamlet.
			exec(`UPDATE admin_units SET name = ? WHERE code = ?`, "Ấp Đổi Tên", h)
			require.Equal(t, "Ấp Đổi Tên", unit(h).Unit.Name, "renamed by another process (was %q)", name)
			require.Equal(t, 2, src.units)

			// The store moves the hamlet under the other commune.
			require.NoError(t, ts.Store.(server.BulkAdminStore).ReparentHamlets(ctx, map[string]string{h: servertest.CommuneB}))
			require.Equal(t, servertest.CommuneB, unit(h).Unit.ParentCode, "re-parented by the store")
			require.Equal(t, children-1, unit(communeA).Unit.Children)

			// A new hamlet, then gone again.
			newH := schema.HamletCode(communeA, 99)
			exec(`INSERT INTO admin_units (code, name, type, level, parent_code) VALUES (?, ?, ?, ?, ?)`, newH, "Ấp Mới", "Ấp", "hamlet", communeA)
			require.Equal(t, children, unit(communeA).Unit.Children, "a hamlet added by another process")
			require.Equal(t, "Ấp Mới", unit(newH).Unit.Name)
			exec(`DELETE FROM admin_units WHERE code = ?`, newH)
			_, err := x.Unit(ctx, newH)
			var ue *analytics.UnitError
			require.True(t, errors.As(err, &ue), "a hamlet removed by another process is unknown: %v", err)

			// A predecessor link, added, changed and removed: each moves
			// the version (the tree keeps FormedFrom and successors).
			v := src.UnitsVersion
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{`INSERT INTO admin_unit_predecessors (code, predecessor_code, partial) VALUES (?, ?, ?)`, []any{h, ts.HamletsA[1], false}},
				{`UPDATE admin_unit_predecessors SET partial = ? WHERE code = ?`, []any{true, h}},
				{`DELETE FROM admin_unit_predecessors WHERE code = ?`, []any{h}},
			} {
				before, err := v(ctx)
				require.NoError(t, err)
				exec(q.sql, q.args...)
				after, err := v(ctx)
				require.NoError(t, err)
				require.NotEqual(t, before, after, "%s moves the units' version", q.sql)
			}
		})
	}
}
