package pgstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/examples/camau"
	"github.com/hamlet-vn/hamlet/examples/camau/loader"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/pgstore"
	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// The dashboard's statistics are the same on SQLite and PostgreSQL for the
// same province: camau.Small loaded into a server of each kind.
func TestAnalyticsSameOnBothStores(t *testing.T) {
	cfg := server.Config{Logger: servertest.Logger(), GCInterval: -1}
	lite, err := servertest.Open(ctx, t.TempDir(), "NORMAL", cfg)
	require.NoError(t, err)
	t.Cleanup(func() { lite.Close() })
	st, err := pgstore.Open(ctx, pgtest.MigratedDB(t, pgstore.Migrate), pgstore.Options{MaxConns: 8, Logger: servertest.Logger()})
	require.NoError(t, err)
	pg, err := server.OpenWithStore(ctx, server.Config{Logger: servertest.Logger(), GCInterval: -1}, st)
	require.NoError(t, err)
	t.Cleanup(func() { pg.Close() })

	var idx [2]*analytics.Index
	for i, srv := range []*server.Server{lite, pg} {
		t0 := time.Now()
		res, err := loader.Load(ctx, srv, camau.Small(), loader.Options{Reorganise: true})
		require.NoError(t, err)
		t.Logf("store %d: loaded %d households, %d visits in %v", i, res.Counts.Households, res.Counts.Visits, time.Since(t0).Round(time.Millisecond))
		idx[i], err = srv.Analytics()
		require.NoError(t, err)
	}
	p := analytics.Period{From: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	units := []string{schema.ProvinceCodeCaMau}
	covLite, err := idx[0].Coverage(ctx, schema.ProvinceCodeCaMau, p)
	require.NoError(t, err)
	require.Positive(t, covLite.Unit.Households)
	require.Positive(t, covLite.Unit.Reached)
	for _, c := range covLite.Children[:min(3, len(covLite.Children))] {
		units = append(units, c.Code)
	}
	for _, u := range units {
		a, err := idx[0].Coverage(ctx, u, p)
		require.NoError(t, err)
		b, err := idx[1].Coverage(ctx, u, p)
		require.NoError(t, err)
		require.Equal(t, a, b, "coverage of %s", u)
		for _, g := range []analytics.Granularity{analytics.Weekly, analytics.Monthly} {
			a, err := idx[0].TeamStats(ctx, u, p, g, now)
			require.NoError(t, err)
			b, err := idx[1].TeamStats(ctx, u, p, g, now)
			require.NoError(t, err)
			require.Equal(t, a, b, "team stats of %s by %s", u, g)
		}
	}
}
