package loader_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/examples/camau"
	"github.com/hamlet-vn/hamlet/examples/camau/loader"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/api"
	"github.com/hamlet-vn/hamlet/server/httpapp"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// BenchmarkProvinceAPI measures the dashboard API on the full-size province
// (camau.Province(): ~300,000 households, ~1,000,000 tutoring records,
// 50,000 reports) on embedded SQLite, through HTTP on loopback. The
// province is loaded through the push path once and cached under
// os.TempDir (loader.CachedDataDir): the first run takes minutes.
//
//	make bench-analytics
func BenchmarkProvinceAPI(b *testing.B) {
	ctx := context.Background()
	t0 := time.Now()
	dir, res, err := loader.CachedDataDir(ctx, camau.Province(), false, server.Config{Logger: servertest.Logger()}, openNormal)
	require.NoError(b, err)
	b.Logf("province data in %s (ready after %s): %d households, %d visits, %d tutoring records, %d reports; %d changes loaded at %.0f changes/s (rows %s)",
		dir, time.Since(t0).Round(time.Millisecond), res.Counts.Households, res.Counts.Visits, res.Counts.Tutoring, res.Counts.Reports,
		res.Changes, res.ChangesPerSecond(), res.RowsTime.Round(time.Second))
	srv, err := servertest.Open(ctx, dir, "", server.Config{Logger: servertest.Logger(), GCInterval: -1,
		Now: func() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) }})
	require.NoError(b, err)
	b.Cleanup(func() { srv.Close() })
	_, err = srv.Admin().AddUser(ctx, server.NewUser{Username: "bench", DisplayName: "Bench", Role: analytics.RoleProvincial,
		UnitCode: schema.ProvinceCodeCaMau, Password: password})
	if err != nil && !errors.Is(err, server.ErrConflict) {
		require.NoError(b, err)
	}
	hs := httptest.NewServer(httpapp.Handler(srv))
	b.Cleanup(hs.Close)
	c := signInB(b, hs.URL)
	period := "from=2026-01-01&to=2026-11-30"

	t1 := time.Now()
	c.fetch(b, "/api/v1/coverage?unit=96&"+period) // the first call loads the read model
	b.Logf("first call (full read-model load from SQLite): %s", time.Since(t1).Round(time.Millisecond))
	x, _ := srv.Analytics()
	t2 := time.Now()
	for range 20 {
		require.NoError(b, x.Refresh(ctx))
	}
	b.Logf("refresh with nothing changed: %s per call", (time.Since(t2) / 20).Round(time.Microsecond))

	for _, bc := range []struct{ name, path string }{
		{"coverage/province", "/api/v1/coverage?unit=96&" + period},
		{"coverage/province-by-hamlet", "/api/v1/coverage?unit=96&level=hamlet&" + period},
		{"coverage/commune", "/api/v1/coverage?unit=" + res.FirstCommune + "&" + period},
		{"stats/province-weekly", "/api/v1/stats?unit=96&" + period},
		{"stats/province-monthly", "/api/v1/stats?unit=96&by=month&" + period},
		{"reports/province-page", "/api/v1/reports?unit=96&limit=200"},
		{"export/coverage-hamlets.xlsx", "/api/v1/export/coverage.xlsx?unit=96&level=hamlet&" + period},
		{"export/coverage-hamlets.csv", "/api/v1/export/coverage.csv?unit=96&level=hamlet&" + period},
	} {
		b.Run(bc.name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				n = c.fetch(b, bc.path)
			}
			b.ReportMetric(float64(n), "bytes/resp")
		})
	}
}

type benchClient struct {
	base, token string
}

func signInB(b *testing.B, base string) *benchClient {
	resp, err := http.Post(base+"/api/v1/login", "application/json",
		jsonBody(map[string]string{"username": "bench", "password": password}))
	require.NoError(b, err)
	defer resp.Body.Close()
	require.Equal(b, 200, resp.StatusCode)
	var lr api.LoginResponse
	require.NoError(b, json.NewDecoder(resp.Body).Decode(&lr))
	return &benchClient{base: base, token: lr.Token}
}

func (c *benchClient) fetch(b testing.TB, path string) int {
	req, _ := http.NewRequest("GET", c.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b, err)
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, resp.Body)
	require.Equal(b, 200, resp.StatusCode, path)
	return int(n)
}

// openNormal opens the cached province's server (loader.CachedDataDir) on
// SQLite with synchronous NORMAL.
func openNormal(ctx context.Context, dir string, cfg server.Config) (*server.Server, error) {
	return servertest.Open(ctx, dir, "NORMAL", cfg)
}
