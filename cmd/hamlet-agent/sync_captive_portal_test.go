package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Helper 167: a captive portal (a café's or a commune hall's Wi-Fi login
// page) answering in place of the server, with its login page (an HTML
// 200) or a redirect to it on another host, made enrollment and sync say
// "is not a Hamlet server, check the address": the address is right, the
// volunteer must sign in to the Wi-Fi first. Enrollment and sync say so,
// in Vietnamese and with --lang en; a wrong address (a 404 page) is still
// told as one. And the enrollment code is not handed on to the portal's
// host by following its redirect.
func TestCaptivePortalSaysSignIn(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	gotCode := make(chan string, 16)
	login := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/login" { // sent on by a redirect
			gotCode <- r.URL.Path
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!DOCTYPE html><html><head><title>WiFi Miễn Phí</title></head><body><form method="post" action="/login"><input name="phone"><button>Đăng nhập</button></form></body></html>`))
	}))
	defer login.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, login.URL+"/login?continue="+url.QueryEscape(r.URL.String()), http.StatusFound)
	}))
	defer redirect.Close()
	redirect307 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, login.URL+"/login", http.StatusTemporaryRedirect)
	}))
	defer redirect307.Close()
	notFound := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("<html><body>404 Not Found</body></html>"))
	}))
	defer notFound.Close()

	enrolled := t.TempDir()
	r := cli(t, enrolled, "enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	require.Equal(t, 0, r.code, r.stderr)
	for _, c := range []struct{ name, url string }{{"login page", login.URL}, {"redirect", redirect.URL}, {"redirect 307", redirect307.URL}} {
		t.Run(c.name, func(t *testing.T) {
			r := cli(t, t.TempDir(), "enroll", "--server", c.url, "--code", ts.EnrollCode(t, ts.TeamA))
			require.NotEqual(t, 0, r.code)
			require.Contains(t, r.stderr, "đăng nhập Wi-Fi", "enroll: %s", r.stderr)
			require.NotContains(t, r.stderr, "không phải máy chủ Hamlet", r.stderr)
			r = cli(t, enrolled, "sync", "--server", c.url)
			require.NotEqual(t, 0, r.code)
			require.Contains(t, r.stderr, "đăng nhập Wi-Fi", "sync: %s", r.stderr)
			require.Contains(t, r.stderr, "đồng bộ lại", "sync: %s", r.stderr)
			require.NotContains(t, r.stderr, "không phải máy chủ Hamlet", r.stderr)
			r = cli(t, enrolled, "sync", "--server", c.url, "--lang", "en")
			require.Contains(t, r.stderr, "sign in (Wi-Fi login page)", "sync: %s", r.stderr)
		})
	}
	require.Empty(t, gotCode, "the enrollment code was posted to the portal's host")
	r = cli(t, enrolled, "sync", "--server", notFound.URL)
	require.Contains(t, r.stderr, "không phải máy chủ Hamlet", "a wrong address is still one: %s", r.stderr)
	// nginx's "return 301 https://$host$request_uri" is the server, in
	// https://: not a portal, nor another server.
	toHTTPS := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://127.0.0.1:8443"+r.URL.RequestURI(), http.StatusMovedPermanently)
	}))
	defer toHTTPS.Close()
	r = cli(t, t.TempDir(), "enroll", "--server", toHTTPS.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	require.Contains(t, r.stderr, "dùng https://", r.stderr)
	r = cli(t, enrolled, "sync", "--server", toHTTPS.URL)
	require.Contains(t, r.stderr, "dùng https://", r.stderr)
	r = cli(t, enrolled, "sync")
	require.Equal(t, 0, r.code, "signed in, the sync goes through: %s", r.stderr)
}
