package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestHTTPSMoveCheckRefusedTooOldStopsWatch: the laptop's server moved to
// https:// and, upgraded the same day, refuses this agent as too old. At
// the https:// address itself sync --watch stops and says to update
// hamlet-agent (nothing changes without a person). Told through the
// move's check, it must stop the same way, in both languages, not go on
// "Mất kết nối, sẽ thử lại" for ever with a message to install an update.
func TestHTTPSMoveCheckRefusedTooOldStopsWatch(t *testing.T) {
	t.Parallel()
	bin := agentBinary(t)
	ts := servertest.Start(t)
	tooOld := syncproto.SchemaAdvice{Agent: schema.Version, Min: schema.Version + 1, Max: schema.Version + 1}.Err()
	refusal := syncproto.ErrorMsg{Code: tooOld.Code, Msg: tooOld.Msg, Fatal: true}
	hamletTLS := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		if _, _, err := c.ReadMessage(); err != nil { // Hello
			return
		}
		if b, err := syncproto.Encode(nil, &refusal); err == nil {
			_ = c.WriteMessage(websocket.BinaryMessage, b)
		}
	}))
	defer hamletTLS.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, hamletTLS.URL+r.URL.RequestURI(), http.StatusMovedPermanently)
	}))
	defer redirect.Close()
	ca := trustFile(t, hamletTLS)
	watch := func(dir, server, lang string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		cmd := trusting(ctx, bin, ca, dir, "sync", "--watch", "--server", server, "--lang", lang)
		out, err := cmd.CombinedOutput()
		if ctx.Err() != nil {
			return string(out), ctx.Err()
		}
		return string(out), err
	}
	for _, tc := range []struct{ lang, update, retry string }{
		{"vi", "Hãy cài hamlet-agent", "sẽ thử lại"},
		{"en", "hamlet-agent", "will retry"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			dir := t.TempDir()
			r := cli(t, dir, "enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
			require.Equal(t, 0, r.code, r.stderr)
			out, err := watch(dir, hamletTLS.URL, tc.lang)
			t.Logf("sync --watch at https:// itself: %v\n%s", err, out)
			assert.NotContains(t, out, tc.retry, "told it retries, then stopped")
			out, err = watch(dir, redirect.URL, tc.lang)
			t.Logf("sync --watch through the move's check: %v\n%s", err, out)
			assert.NotErrorIs(t, err, context.DeadlineExceeded, "sync --watch goes on for ever while only an update of hamlet-agent helps")
			assert.Contains(t, out, tc.update)
			assert.NotContains(t, out, tc.retry)
		})
	}
	// Storage busy for now at the https:// address: sync --watch goes on.
	busy := syncproto.ErrorMsg{Code: syncproto.CodeUnavailable, Msg: "record device activity", Fatal: true}
	refusal = busy
	dir := t.TempDir()
	r := cli(t, dir, "enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	require.Equal(t, 0, r.code, r.stderr)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang's bound only
	defer cancel()
	cmd := trusting(ctx, bin, ca, dir, "sync", "--watch", "--server", redirect.URL)
	out, ended := watchUntil(t, cmd, cancel, "sẽ thử lại")
	t.Logf("busy: %s", out)
	assert.False(t, ended, "sync --watch stopped for a server busy for now: %s", out)
	assert.Contains(t, out, "sẽ thử lại")
}
