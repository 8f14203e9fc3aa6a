package main

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// heldCommit is the server's store with one push commit held back: the
// commit of a push whose agent is killed meanwhile, so the server still
// holds the killed session while the next one starts (issue 14.7). The
// next session's Hello then waits until that commit is done and the
// server had its chance to notify, so a Notify sent too early (before
// Welcome) is on the wire before Welcome whatever the scheduling.
type heldCommit struct {
	server.Store
	arm      atomic.Bool
	held     chan struct{} // closed when the push's commit is waiting
	release  chan struct{} // closed by the test
	done     chan struct{} // closed when that commit returned
	hello    atomic.Bool   // the next PushedSeq (Hello) waits for done
	notifies func() int    // the server's Notify count
}

func (h *heldCommit) Update(ctx context.Context, fn func(server.Tx) error) error {
	if !h.arm.CompareAndSwap(true, false) {
		return h.Store.Update(ctx, fn)
	}
	close(h.held)
	<-h.release
	defer close(h.done)
	return h.Store.Update(ctx, fn)
}

func (h *heldCommit) PushedSeq(ctx context.Context, r syncproto.ReplicaID) (uint64, error) {
	if h.hello.CompareAndSwap(true, false) {
		<-h.done
		// A Notify caused by the commit is written at once, or never:
		// give it a moment to appear before Welcome is sent.
		before := h.notifies()
		for i := 0; i < 100 && h.notifies() == before; i++ {
			time.Sleep(10 * time.Millisecond)
		}
	}
	return h.Store.PushedSeq(ctx, r)
}

// metric reads one unlabelled value from the server's /metrics.
func metric(t *testing.T, base, name string) int {
	resp, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err)
			return int(f)
		}
	}
	return 0
}

// Issue 14.7: the agent is killed (SIGKILL) while the server commits its
// push; the server still holds that session when the agent syncs again.
// The first sync after the crash succeeds and sends everything once.
func TestSyncAfterKillMidPush(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	st, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), sqlitestore.DBFile), sqlitestore.Options{})
	require.NoError(t, err)
	h := &heldCommit{Store: st, held: make(chan struct{}), release: make(chan struct{}), done: make(chan struct{})}
	ts := servertest.Start(t, servertest.WithStore(h))
	h.notifies = func() int { return metric(t, ts.URL, "hamlet_notifies_total") }
	l := newLaptop(t, t.TempDir())
	l.lang = "en"
	l.must("enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	l.must("sync")
	for _, head := range []string{"Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"} {
		l.must("household", "add", "--hamlet", ts.HamletsA[0], "--head", head)
	}

	h.arm.Store(true)
	killed := l.command(context.Background(), "sync")
	require.NoError(t, killed.Start())
	<-h.held // the push reached the store: the agent waits for its Ack
	require.NoError(t, killed.Process.Kill())
	_ = killed.Wait()

	h.hello.Store(true)
	again := l.command(context.Background(), "sync")
	var out, errb bytes.Buffer
	again.Stdout, again.Stderr = &out, &errb
	require.NoError(t, again.Start())
	// The new session is connected while the killed one still commits.
	for metric(t, ts.URL, "hamlet_connected_agents") < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	close(h.release)
	err = again.Wait()
	require.NoError(t, err, "first sync after the crash: %s%s", out.String(), errb.String())
	require.Contains(t, out.String(), "Synced:")
	require.NotContains(t, errb.String(), "out of order")

	require.Zero(t, l.pending())
	// Every household reached the server, once.
	other := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	got, _, _, err := other.PullAll(0)
	require.NoError(t, err)
	rows := map[syncproto.RowID]bool{}
	for _, c := range got {
		if c.Table == "households" {
			rows[c.Row] = true
		}
	}
	require.Len(t, rows, 3)
}
