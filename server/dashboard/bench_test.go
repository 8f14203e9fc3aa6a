package dashboard_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/examples/camau"
	"github.com/hamlet-vn/hamlet/examples/camau/loader"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/httpapp"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// BenchmarkDashboardProvince measures the dashboard's pages on the full
// Cà Mau province (camau.Province(): ~300,000 households, ~1,000,000
// tutoring records, 50,000 reports) on embedded SQLite: server time of the
// handler (httptest recorder, no network), and the page's weight gzipped
// with its assets. The province is loaded once and cached under os.TempDir
// (loader.CachedDataDir): the first run takes minutes.
//
//	make bench-dashboard
func BenchmarkDashboardProvince(b *testing.B) {
	ctx := context.Background()
	dir, res, err := loader.CachedDataDir(ctx, camau.Province(), false, server.Config{Logger: servertest.Logger()}, openNormal)
	require.NoError(b, err)
	b.Logf("province data in %s: %d households, %d tutoring records, %d reports", dir, res.Counts.Households, res.Counts.Tutoring, res.Counts.Reports)
	srv, err := servertest.Open(ctx, dir, "", server.Config{Logger: servertest.Logger(), GCInterval: -1,
		Now: func() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) }})
	require.NoError(b, err)
	b.Cleanup(func() { srv.Close() })
	_, err = srv.Admin().AddUser(ctx, server.NewUser{Username: "bench-web", DisplayName: "Bench", Role: analytics.RoleProvincial,
		UnitCode: schema.ProvinceCodeCaMau, Password: webPassword})
	if err != nil && !errors.Is(err, server.ErrConflict) {
		require.NoError(b, err)
	}
	h := httpapp.Handler(srv)
	cookie := signInHandler(b, h, "bench-web")
	get := func(path string, gz bool) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		req.AddCookie(cookie)
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%s: %d %s", path, w.Code, w.Body.String())
		}
		return w
	}
	period := "from=2026-01-01&to=2026-11-30"
	t0 := time.Now()
	get("/coverage?unit=96&"+period, false) // the first call loads the read model
	b.Logf("first page (full read-model load from SQLite): %s", time.Since(t0).Round(time.Millisecond))

	for _, bc := range []struct {
		name, path string
		budget     time.Duration
	}{
		{"coverage/province", "/coverage?unit=96&" + period, 500 * time.Millisecond},
		{"coverage/province-by-hamlet", "/coverage?unit=96&level=hamlet&" + period, 0},
		{"coverage/commune", "/coverage?unit=" + res.FirstCommune + "&" + period, 500 * time.Millisecond},
		{"teams/province", "/teams?unit=96&" + period, 0},
		{"reports/province", "/reports?unit=96", 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := get(bc.path, true)
			size := w.Body.Len()
			html := gunzip(b, w.Body.Bytes())
			for _, m := range regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`).FindAllStringSubmatch(html, -1) {
				size += get(strings.ReplaceAll(m[1], "&amp;", "&"), true).Body.Len()
			}
			var worst time.Duration
			for b.Loop() {
				t := time.Now()
				get(bc.path, true)
				worst = max(worst, time.Since(t))
			}
			b.ReportMetric(float64(size), "gzip-bytes")
			b.ReportMetric(float64(len(html)), "html-bytes")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/page")
			if size >= 300<<10 {
				b.Errorf("%s weighs %d bytes gzipped with its assets: over the 300 KB budget", bc.path, size)
			}
			if bc.budget > 0 && b.Elapsed()/time.Duration(b.N) >= bc.budget {
				b.Errorf("%s takes %s per page: over the %s budget", bc.path, b.Elapsed()/time.Duration(b.N), bc.budget)
			}
			_ = worst
		})
	}
}

// signInHandler signs in through the HTML form against a handler and
// returns the session cookie.
func signInHandler(tb testing.TB, h http.Handler, user string) *http.Cookie {
	tb.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/login", nil))
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(w.Body.String())
	require.NotNil(tb, m)
	var csrf *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == "hamlet_login_csrf" {
			csrf = c
		}
	}
	require.NotNil(tb, csrf)
	req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"csrf": {m[1]}, "username": {user}, "password": {webPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(csrf)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, req)
	require.Equal(tb, http.StatusSeeOther, w.Code, w.Body.String())
	for _, c := range w.Result().Cookies() {
		if c.Name == server.SessionCookie {
			return c
		}
	}
	tb.Fatal("no session cookie")
	return nil
}

func gunzip(tb testing.TB, b []byte) string {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(tb, err)
	out, err := io.ReadAll(zr)
	require.NoError(tb, err)
	return string(out)
}

// openNormal opens the cached province's server (loader.CachedDataDir) on
// SQLite with synchronous NORMAL.
func openNormal(ctx context.Context, dir string, cfg server.Config) (*server.Server, error) {
	return servertest.Open(ctx, dir, "NORMAL", cfg)
}
