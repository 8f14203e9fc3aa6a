package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestGatewayAnswersWhileRestarting: the answers of the gateways volunteers'
// servers stand behind (nginx, Caddy, HAProxy, Cloudflare and its Tunnel)
// while the Hamlet server behind them restarts or its machine reboots: sync
// tells the server is not answering for now, never that the address is no
// Hamlet server; the Hamlet server's own JSON 503 keeps its message.
func TestGatewayAnswersWhileRestarting(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	u, err := url.Parse(ts.URL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(u)
	type answer struct {
		name, ctype, retry, body string
		status                   int
	}
	var cur atomic.Pointer[answer]
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := cur.Load()
		if a == nil {
			proxy.ServeHTTP(w, r)
			return
		}
		if a.ctype != "" {
			w.Header().Set("Content-Type", a.ctype)
		}
		if a.retry != "" {
			w.Header().Set("Retry-After", a.retry)
		}
		w.WriteHeader(a.status)
		fmt.Fprint(w, a.body)
	}))
	defer gw.Close()
	dir := t.TempDir()
	r := cli(t, dir, "enroll", "--server", gw.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	require.Equal(t, 0, r.code, r.stderr)

	cf := func(code int, e string) string {
		return fmt.Sprintf("<!DOCTYPE html><html><head><title>hamlet.example.vn | %d: %s</title></head><body><h1>%s</h1><span>Error code %d</span><p>Cloudflare Ray ID: 8f1c</p></body></html>", code, e, e, code)
	}
	for _, a := range []answer{
		{"nginx 503 HTML Retry-After", "text/html", "30", "<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>", 503},
		{"nginx 504 HTML", "text/html", "", "<html><head><title>504 Gateway Time-out</title></head></html>", 504},
		{"Caddy 502 empty", "", "", "", 502},
		{"HAProxy 503 plain", "text/plain", "", "503 Service Unavailable\nNo server is available to handle this request.\n", 503},
		{"Cloudflare 520", "text/html; charset=UTF-8", "", cf(520, "Web server is returning an unknown error"), 520},
		{"Cloudflare 521", "text/html; charset=UTF-8", "", cf(521, "Web server is down"), 521},
		{"Cloudflare 522", "text/html; charset=UTF-8", "", cf(522, "Connection timed out"), 522},
		{"Cloudflare 523", "text/html; charset=UTF-8", "", cf(523, "Origin is unreachable"), 523},
		{"Cloudflare 524", "text/html; charset=UTF-8", "", cf(524, "A timeout occurred"), 524},
		{"Cloudflare Tunnel down 530 (1033)", "text/html; charset=UTF-8", "", cf(1033, "Cloudflare Tunnel error"), 530},
	} {
		t.Run(a.name, func(t *testing.T) {
			cur.Store(&a)
			defer cur.Store(nil)
			for _, lang := range []string{"vi", "en"} {
				r := cli(t, dir, "sync", "--lang", lang)
				t.Logf("sync (%s): %s", lang, r.stderr)
				assert.NotEqual(t, 0, r.code)
				assert.Contains(t, r.stderr, map[string]string{"vi": "tạm thời chưa trả lời", "en": "not answering for now"}[lang])
				assert.NotContains(t, r.stderr, map[string]string{"vi": "không phải máy chủ Hamlet", "en": "is not a Hamlet server"}[lang])
			}
			r := cli(t, t.TempDir(), "enroll", "--server", gw.URL, "--code", "FDQH-7LU9")
			t.Logf("enroll: %s", r.stderr)
			assert.Contains(t, r.stderr, "tạm thời chưa trả lời")
		})
	}
	t.Run("Hamlet's own JSON 503", func(t *testing.T) {
		a := answer{"json", "application/json", "5", `{"error":{"code":"unavailable","message":"the store is unavailable"}}`, 503}
		cur.Store(&a)
		defer cur.Store(nil)
		r := cli(t, dir, "sync")
		t.Logf("sync: %s", r.stderr)
		assert.NotEqual(t, 0, r.code)
		assert.NotContains(t, r.stderr, "không phải máy chủ Hamlet")
		assert.NotContains(t, r.stderr, "tạm thời chưa trả lời")
	})
}
