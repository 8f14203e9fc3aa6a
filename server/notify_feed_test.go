package server_test

import (
	"context"
	"maps"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
)

// heldFeed is a store shared by several processes, as the server sees
// PostgreSQL: commits reach the hub and the sessions through FeedCommits,
// and the test decides when (LISTEN/NOTIFY delivers a little after the
// commit).
type heldFeed struct {
	server.Store
	mu   sync.Mutex
	fn   func(server.CommitEvent)
	hold bool
	held []server.CommitEvent
}

// Shared: the server treats the store as PostgreSQL.
func (h *heldFeed) Shared() bool { return true }

func (h *heldFeed) FeedCommits(fn func(server.CommitEvent)) error {
	h.fn = fn
	return h.Store.FeedCommits(func(ev server.CommitEvent) {
		h.mu.Lock()
		defer h.mu.Unlock()
		ev.Scopes = maps.Clone(ev.Scopes)
		if h.hold && !ev.Restart {
			h.held = append(h.held, ev)
			return
		}
		h.fn(ev)
	})
}

func (h *heldFeed) setHold(on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hold = on
	if !on {
		for _, ev := range h.held {
			h.fn(ev)
		}
		h.held = nil
	}
}

// On a shared store the commit feed reports this process's own commits a
// little after they are acknowledged. A pull in between must not be
// answered from the hub's older head: the teammate was (or will be) told of
// the commit, and a Notify answered with an older cursor is held back as
// outstanding, so the agent would wait for its next timed sync (seen with
// 2,000 agents on PostgreSQL, before hub.local).
func TestPullAfterALocalCommitReadsTheStore(t *testing.T) {
	st, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "hamlet.db"), sqlitestore.Options{})
	require.NoError(t, err)
	feed := &heldFeed{Store: st}
	ts := servertest.Start(t, servertest.WithStore(feed))
	devA := ts.NewDevice(t, ts.TeamA)
	a, b := ts.Connect(t, devA), ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	_, _, cur, err := b.PullAll(0)
	require.NoError(t, err)
	w := servertest.NewWriter(devA.Replica, nil)
	h := ts.HamletsA[0]
	push := func(batch uint64) uuid.UUID {
		row := uuid.New()
		_, err := a.Push(batch, w.Household(row, h, "Hộ thử"))
		require.NoError(t, err)
		return row
	}

	feed.setHold(true)
	row := push(1)
	cs, _, to, err := b.PullAll(cur) // before the feed reports the commit
	require.NoError(t, err)
	require.Len(t, cs, 2, "a pull after an acknowledged commit of this process sees it")
	require.Equal(t, row, cs[0].Row)
	feed.setHold(false)

	// Nothing is held back: the next commit is announced and pulled.
	row = push(2)
	n, err := b.WaitNotify(10 * time.Second)
	require.NoError(t, err)
	require.Greater(t, n, to)
	cs, _, _, err = b.PullAll(to)
	require.NoError(t, err)
	require.Len(t, cs, 2)
	require.Equal(t, row, cs[0].Row)
}
