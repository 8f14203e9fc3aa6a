package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Helper 178's review of 160aeb1/faebb64/783e65e: the laptop's server,
// moved to https://, answers the move's check Hello with a refusal that
// says what to do (update hamlet-agent; busy, retry). Before 160aeb1 the
// address was stored once the WebSocket opened and the session there said
// that refusal; now the check's refusal must still be what the volunteer
// is told, not "IT staff: check the server or enroll again".
func TestHTTPSMoveCheckRefusedByTheServerSaysWhy(t *testing.T) {
	t.Parallel()
	bin := agentBinary(t)
	ts := servertest.Start(t)
	var refusal syncproto.ErrorMsg
	hamletTLS := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		if _, _, err := c.ReadMessage(); err != nil { // Hello
			return
		}
		b, err := syncproto.Encode(nil, &refusal)
		if err == nil {
			_ = c.WriteMessage(websocket.BinaryMessage, b)
		}
	}))
	defer hamletTLS.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, hamletTLS.URL+r.URL.RequestURI(), http.StatusMovedPermanently)
	}))
	defer redirect.Close()
	ca := trustFile(t, hamletTLS)
	run := func(dir string, args ...string) result { return runTrusting(t, bin, ca, dir, args...) }
	tooOld := syncproto.SchemaAdvice{Agent: schema.Version, Min: schema.Version + 1, Max: schema.Version + 1}.Err()
	for _, c := range []struct {
		name string
		msg  syncproto.ErrorMsg
	}{
		{"an agent too old for the server", syncproto.ErrorMsg{Code: tooOld.Code, Msg: tooOld.Msg, Fatal: true}},
		{"a server that cannot store for now", syncproto.ErrorMsg{Code: syncproto.CodeUnavailable, Msg: "record device activity", Fatal: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			refusal = c.msg
			dir := t.TempDir()
			r := run(dir, "enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
			require.Equal(t, 0, r.code, r.stderr)
			direct := run(dir, "sync", "--server", hamletTLS.URL)
			t.Logf("the same refusal at https:// itself: %d\n%s", direct.code, direct.stderr)
			moved := run(dir, "sync", "--server", redirect.URL)
			t.Logf("the refusal of the move's check: %d\n%s", moved.code, moved.stderr)
			require.NotEqual(t, 0, moved.code)
			require.NotContains(t, moved.stderr, "đăng ký lại máy này", "the volunteer is sent to IT staff to enroll again, for a refusal that says what to do: %s", moved.stderr)
		})
	}
}

// An enrollment saved by a release that kept no ServerID: the move is
// followed when the Hamlet server answers with a Welcome, and still not
// for a service that sends none.
func TestHTTPSMoveEnrollmentWithoutServerID(t *testing.T) {
	t.Parallel()
	bin := agentBinary(t)
	ts := servertest.Start(t)
	u, err := url.Parse(ts.URL)
	require.NoError(t, err)
	tlsSrv := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(u))
	defer tlsSrv.Close()
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err == nil {
			_ = c.WriteMessage(websocket.TextMessage, []byte("hello"))
			c.Close()
		}
	}))
	defer other.Close()
	to := func(dst string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, dst+r.URL.RequestURI(), http.StatusMovedPermanently)
		}))
	}
	good, bad := to(tlsSrv.URL), to(other.URL)
	defer good.Close()
	defer bad.Close()
	ca := trustFile(t, tlsSrv)
	run := func(dir string, args ...string) (int, string) {
		r := runTrusting(t, bin, ca, dir, args...)
		return r.code, r.stdout + r.stderr
	}
	edit := func(dir string, f func(*agent.Enrollment)) string {
		e := &env{dataDir: dir}
		r, err := e.open(context.Background())
		require.NoError(t, err)
		defer r.Close()
		en, err := r.Enrollment(context.Background())
		require.NoError(t, err)
		if f != nil {
			f(en)
			require.NoError(t, r.SetEnrollment(context.Background(), en))
		}
		return en.Server
	}
	dir := t.TempDir()
	code, out := run(dir, "enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	require.Equal(t, 0, code, out)
	edit(dir, func(en *agent.Enrollment) { en.ServerID, en.Server = "", bad.URL })
	code, out = run(dir, "sync")
	t.Logf("old enrollment, hostile redirect: %d %s", code, out)
	require.NotEqual(t, 0, code)
	require.Equal(t, bad.URL, edit(dir, nil))
	edit(dir, func(en *agent.Enrollment) { en.Server = good.URL })
	code, out = run(dir, "sync")
	t.Logf("old enrollment, the server moved: %d %s", code, out)
	require.Equal(t, 0, code, out)
	require.Equal(t, tlsSrv.URL, edit(dir, nil))
}
