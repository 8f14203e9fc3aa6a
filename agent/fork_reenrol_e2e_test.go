package agent_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A laptop whose data folder was copied finds itself a copy and asks the
// server for a new replica id (POST /v1/fork); the server makes the new
// device and the answer is lost (the laptop's power fails). The operator
// then revokes the device, whose token both copies hold, and gives the
// laptop a new code. Enrolled again, the laptop asked for the same new id
// with its new device's token: the server had given that id to a device
// forked from the revoked one, and answered replica_active at every sync,
// for good (issue 17, wide seed 1502709: "the world does not come to rest").
// An enrollment is a new device: its fork is a new request, with a new id.
func TestEnrolledAgainAfterALostForkAnswerSyncs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	hamlet := ts.HamletsA[0]
	dir := t.TempDir()
	origPath, copyPath := filepath.Join(dir, "original.db"), filepath.Join(dir, "copy.db")
	openAt := func(path string) *agent.Replica {
		r, err := agent.OpenWith(ctx, path, agent.Options{})
		require.NoError(t, err)
		t.Cleanup(func() { r.Close() })
		return r
	}

	orig := openAt(origPath)
	tok, e, err := orig.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy gốc")
	require.NoError(t, err)
	realSync(t, orig, ts, tok)
	mine, err := orig.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Lê Thị Hoa"})
	require.NoError(t, err)
	require.NoError(t, orig.Close())
	restoreFile(t, origPath, copyPath)

	// The copy writes under the same numbers and syncs first.
	cp := openAt(copyPath)
	_, err = cp.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Trần Văn Nam"})
	require.NoError(t, err)
	realSync(t, cp, ts, tok)

	// The original finds it is a copy; the server makes its new device and
	// the answer never reaches it.
	px, forks := forkAnswerLost(t, ts, true)
	orig = openAt(origPath)
	_, err = orig.Sync(ctx, px.URL, tok, agent.SyncOptions{IOTimeout: 5 * time.Second})
	require.Error(t, err, "the fork's answer was to be lost")
	require.NotZero(t, forks.Load(), "the original asked for a new replica id")

	require.NoError(t, ts.Admin.RevokeDevice(ctx, e.DeviceID))
	tok2, _, err := orig.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy gốc")
	require.NoError(t, err)
	s, err := orig.Sync(ctx, ts.URL, tok2, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, err, "the laptop enrolled again must sync")
	require.NotNil(t, s.Fork, "the laptop continues under a new replica id")
	if tok3, err := orig.PendingToken(ctx); err == nil && tok3 != "" {
		tok2 = tok3
		require.NoError(t, orig.TokenSaved(ctx))
	}
	realSync(t, orig, ts, tok2)

	require.True(t, holdsRow(t, orig, mine))
	fresh, tf := realAgent(t, ts, ts.TeamA)
	realSync(t, fresh, ts, tf)
	want, err := fresh.Snapshot(ctx)
	require.NoError(t, err)
	got, err := orig.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got, "the laptop equals a fresh clone\n%s", diffSnap(want, got))
}

// forkAnswerLost is a proxy to ts that answers no POST /v1/fork: with
// reach, the request reaches the server (which makes the device) and the
// answer is lost; without, the request is lost. It counts the requests.
func forkAnswerLost(t *testing.T, ts *servertest.TS, reach bool) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	target, err := url.Parse(ts.URL)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(target)
	forks := new(atomic.Int32)
	px := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/fork" {
			forks.Add(1)
			if reach {
				rp.ServeHTTP(httptest.NewRecorder(), r)
			}
			panic(http.ErrAbortHandler)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(px.Close)
	return px, forks
}
