package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// tailWorld pushes random work through a real server and compares the
// answers of the log's tail in memory with the store's.
type tailWorld struct {
	t       *testing.T
	ts      *servertest.TS
	rng     *rand.Rand
	reps    []*replica
	hamlets map[*replica][]string
	rows    map[*replica][]tailHousehold
	scopes  []string
}

type tailHousehold struct {
	row    uuid.UUID
	hamlet string
}

func newTailWorld(t *testing.T, ts *servertest.TS, seed uint64) *tailWorld {
	w := &tailWorld{t: t, ts: ts, rng: rand.New(rand.NewPCG(seed, 7)), hamlets: map[*replica][]string{}, rows: map[*replica][]tailHousehold{}}
	for range 3 {
		r := newReplica(t, ts, ts.TeamA)
		w.reps, w.hamlets[r] = append(w.reps, r), ts.HamletsA
	}
	for range 2 {
		r := newReplica(t, ts, ts.TeamB)
		w.reps, w.hamlets[r] = append(w.reps, r), ts.HamletsB
	}
	w.scopes = append(append([]string{ts.OtherHamletA}, ts.HamletsA...), ts.HamletsB...)
	return w
}

// work pushes rounds batches of new households, edits, moves between
// hamlets (their evictions and re-logged entries) and deletes.
func (w *tailWorld) work(rounds int) {
	t, rng := w.t, w.rng
	for range rounds {
		r := w.reps[rng.IntN(len(w.reps))]
		var cs []syncproto.Change
		for range 1 + rng.IntN(6) {
			hs := w.hamlets[r]
			switch op := rng.IntN(10); {
			case op < 4 || len(w.rows[r]) == 0:
				h := tailHousehold{hamlet: hs[rng.IntN(len(hs))]}
				var c []syncproto.Change
				h.row, c = household(r, h.hamlet, "Hộ "+uuid.NewString()[:6])
				cs = append(cs, c...)
				w.rows[r] = append(w.rows[r], h)
			case op < 7:
				h := w.rows[r][rng.IntN(len(w.rows[r]))]
				cs = append(cs, r.write("households", h.row, "notes", syncproto.String(uuid.NewString()[:8]), h.hamlet))
			case op < 9:
				h := &w.rows[r][rng.IntN(len(w.rows[r]))]
				to := hs[rng.IntN(len(hs))]
				cs = append(cs, r.write("households", h.row, "hamlet_code", syncproto.String(to), h.hamlet))
				h.hamlet = to
			default:
				i := rng.IntN(len(w.rows[r]))
				cs = append(cs, r.write("households", w.rows[r][i].row, "_deleted", syncproto.Bool(true), w.rows[r][i].hamlet))
				w.rows[r] = append(w.rows[r][:i], w.rows[r][i+1:]...)
			}
		}
		r.push(t, cs...)
		if rng.IntN(3) == 0 {
			r.pull(t)
		}
	}
}

// compare asks n random queries (cursor, scopes, page size, excluded
// replica) of the tail and of the store and returns how many the tail
// answered.
func (w *tailWorld) compare(n int) (answered int) {
	t, rng, ctx := w.t, w.rng, context.Background()
	head, err := w.ts.Store.Head(ctx)
	require.NoError(t, err)
	for range n {
		q := server.LogQuery{After: uint64(rng.Int64N(int64(head) + 1)), Limit: 1 + rng.IntN(40)}
		if rng.IntN(2) == 0 {
			// Near the head half the time: where a small tail's floor is.
			q.After = head - uint64(rng.Int64N(int64(min(head+1, 30))))
		}
		for _, sc := range w.scopes {
			if rng.IntN(2) == 0 {
				q.Scopes = append(q.Scopes, sc)
			}
		}
		if k := rng.IntN(len(w.reps) + 1); k < len(w.reps) {
			q.Exclude = w.reps[k].dev.Replica
		}
		mem, ok := server.TailRead(w.ts.Server, q)
		if !ok {
			continue
		}
		answered++
		want, err := w.ts.Store.ReadLog(ctx, q)
		require.NoError(t, err)
		if len(want.Entries) == 0 {
			want.Entries = nil // no entries, however the store's empty page is made
		}
		require.Equal(t, want, mem, "query %+v", q)
	}
	return answered
}

// The log's tail in memory answers a pull exactly as the store would:
// every scope set, cursor, page size and excluded replica, over a log of
// new rows, edits, moves and deletes; after a collection that deleted
// entries; and after another process (here a second store on the same
// file, as the operator's CLI) committed entries this server was not told
// of.
func TestPullsFromTheLogTailMatchTheStore(t *testing.T) {
	ctx := context.Background()
	ts := servertest.Start(t)
	w := newTailWorld(t, ts, 41)
	w.work(60)
	require.Equal(t, 500, w.compare(500), "every cursor since the server started is in the tail")

	// A collection deletes superseded entries: the tail holds them no longer.
	for _, r := range w.reps {
		r.pull(t)
		pullPast(t, r.c, r.cursor)
	}
	st, err := ts.Admin.GC(ctx)
	require.NoError(t, err)
	require.Positive(t, st.Rows+st.Entries+st.Superseded, "the collection deleted log entries")
	mem, ok := server.TailRead(ts.Server, server.LogQuery{After: 0, Scopes: w.scopes, Limit: 1000})
	require.False(t, ok, "the tail answered after a collection deleted entries: %d entries", len(mem.Entries))
	w.compare(300)
	w.work(30)
	require.Positive(t, w.compare(300), "the tail fills again after a collection")

	// Another writer on the same file: this server finds its commit
	// before its own next one.
	before, err := ts.Store.Head(ctx)
	require.NoError(t, err)
	other := servertest.Start(t, servertest.WithDataDir(ts.DataDir))
	o := newReplica(t, other, other.TeamA)
	row, cs := household(o, ts.HamletsA[0], "Hộ của tiến trình khác")
	o.push(t, cs...)
	b := w.reps[3] // team B: nothing of team A's hamlets in this commit
	_, cs = household(b, ts.HamletsB[0], "Hộ của tổ B")
	b.push(t, cs...)
	got, _, _, err := w.reps[0].c.PullAll(before)
	require.NoError(t, err)
	var seen bool
	for _, c := range got {
		seen = seen || c.Row == row
	}
	require.True(t, seen, "a team A device pulling from %d missed the household another process logged", before)
	_, ok = server.TailRead(ts.Server, server.LogQuery{After: before, Scopes: w.scopes, Limit: 1000})
	require.False(t, ok, "a cursor below another process's commit must read the store")
	w.work(10)
	w.compare(300)
}

// A tail kept small (Config.LogTail) trims its oldest entries and still
// answers as the store would (helper 89's check, kept).
func TestATrimmedLogTailMatchesTheStore(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 8} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.LogTail = n }))
			w := newTailWorld(t, ts, uint64(n))
			answered := 0
			for range 6 {
				w.work(8)
				answered += w.compare(150)
			}
			require.Positive(t, answered)
		})
	}
}

// deletedEverywhere has a household pushed and deleted by one device of
// team A, and both of its devices pull past the delete, their cursors
// stored: the next collection, of any process, collects it. It returns the
// household and the second device.
func deletedEverywhere(t *testing.T, ts *servertest.TS) (uuid.UUID, *replica) {
	t.Helper()
	a := newReplica(t, ts, ts.TeamA)
	b := newReplica(t, ts, ts.TeamA)
	row, cs := household(a, ts.HamletsA[0], "Hộ sẽ bị xóa")
	a.push(t, cs...)
	a.push(t, a.write("households", row, "_deleted", syncproto.Bool(true), ts.HamletsA[0]))
	for _, r := range []*replica{a, b} {
		r.pull(t)
		pullPast(t, r.c, r.cursor)
	}
	ts.Server.RunJob(context.Background(), server.JobFlush)
	return row, b
}

// Another process on the same file (the operator's CLI) commits without
// this server hearing of it through its feed: a collection that deletes a
// household's entries, then a household it logs. With no commit of this
// server in between, a pull answered from memory still sees each at once
// (review of the log's tail, helper 89: a new device got the five entries
// the other process had collected).
func TestPullsFromMemorySeeAnotherProcesssCommits(t *testing.T) {
	ctx := context.Background()
	ts := servertest.Start(t)
	row, b := deletedEverywhere(t, ts)

	other := servertest.Start(t, servertest.WithDataDir(ts.DataDir))
	st, err := other.Admin.GC(ctx)
	require.NoError(t, err)
	require.Positive(t, st.Rows, "the other process collected the household")

	// A pull from 0 (a laptop starting again), with no write of this
	// server since the collection.
	got, _, _, err := b.c.PullAll(0)
	require.NoError(t, err)
	for _, ch := range got {
		require.NotEqual(t, row, ch.Row, "a change of the household another process collected")
	}
	q := server.LogQuery{After: 0, Scopes: ts.HamletsA, Limit: 1000}
	want, err := ts.Store.ReadLog(ctx, q)
	require.NoError(t, err)
	if mem, ok := server.TailRead(ts.Server, q); ok {
		require.Len(t, mem.Entries, len(want.Entries), "the tail holds entries the other process deleted")
	}

	// The other process logs a household; a device idle since its last
	// pull hears nothing of this server, pulls, and gets it.
	o := newReplica(t, other, other.TeamA)
	row2, cs := household(o, ts.HamletsA[1], "Hộ của tiến trình khác")
	o.push(t, cs...)
	got, _ = b.pull(t)
	var seen bool
	for _, ch := range got {
		seen = seen || ch.Row == row2
	}
	require.True(t, seen, "an idle device's pull missed the household another process logged")
}

// quietFirst runs another pull's Quiet just before the next one asked:
// two pulls overlapping as in review 41 (helper 90).
type quietFirst struct {
	*sqlitestore.Store
	mu    sync.Mutex
	first func()
}

func (q *quietFirst) Quiet(ctx context.Context) bool {
	q.mu.Lock()
	f := q.first
	q.first = nil
	q.mu.Unlock()
	if f != nil {
		f()
	}
	return q.Store.Quiet(ctx)
}

// Two pulls read memory after another process's collection; the first to
// ask Quiet finds the commit and restarts the hub, and Quiet then holds
// for the second, whose answer was read before the restart: it must not
// be sent (review 41, helper 90, D1).
func TestAnAnswerReadBeforeAnotherPullsRestartIsNotSent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	lite, err := servertest.OpenStore(ctx, dir, "")
	require.NoError(t, err)
	qs := &quietFirst{Store: lite}
	ts := servertest.Start(t, servertest.WithDataDir(dir), servertest.WithStore(qs))
	row, b := deletedEverywhere(t, ts)

	other := servertest.Start(t, servertest.WithDataDir(dir))
	st, err := other.Admin.GC(ctx)
	require.NoError(t, err)
	require.Positive(t, st.Rows, "the other process collected the household")

	qs.mu.Lock()
	qs.first = func() { _ = qs.Store.Quiet(ctx) } // the other pull's
	qs.mu.Unlock()
	got, _, _, err := b.c.PullAll(0)
	require.NoError(t, err)
	for _, ch := range got {
		require.NotEqual(t, row, ch.Row, "a change of the household another process collected")
	}
}

// The probe that watches for other processes' commits has a connection of
// its own: a read pool of one still reads (review 41, helper 90, D2: the
// server hung at start).
func TestTheCommitProbeLeavesTheReadPoolAlone(t *testing.T) {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), sqlitestore.DBFile), sqlitestore.Options{ReadConns: 1})
	require.NoError(t, err)
	srv, err := server.OpenWithStore(ctx, server.Config{Logger: servertest.Logger(), GCInterval: -1}, st)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = st.Head(rctx)
	require.NoError(t, err, "a read on the store")
}

// A device idle in its session hears of another process's commit at the
// server's next check of such commits (JobCheck), or sooner, whatever
// finds the commit first: a write of this server, another device's pull,
// the activity flush (review 41, helper 92: after each of those three the
// device heard nothing).
func TestAnIdleDeviceIsToldOfAnotherProcesssCommit(t *testing.T) {
	for name, between := range map[string]func(t *testing.T, ts *servertest.TS, b *replica){
		"nothing": func(*testing.T, *servertest.TS, *replica) {},
		"a write here": func(t *testing.T, ts *servertest.TS, b *replica) {
			_, cs := household(b, ts.HamletsB[0], "Hộ của tổ B")
			b.push(t, cs...)
		},
		"another device's pull": func(t *testing.T, _ *servertest.TS, b *replica) { b.pull(t) },
		"the activity flush": func(_ *testing.T, ts *servertest.TS, _ *replica) {
			ts.Server.RunJob(context.Background(), server.JobFlush)
		},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			ts := servertest.Start(t)
			a := newReplica(t, ts, ts.TeamA)
			a.pull(t)
			b := newReplica(t, ts, ts.TeamB)
			b.pull(t)
			other := servertest.Start(t, servertest.WithDataDir(ts.DataDir))
			o := newReplica(t, other, other.TeamA)
			row, cs := household(o, ts.HamletsA[0], "Hộ của tiến trình khác")
			o.push(t, cs...)

			between(t, ts, b)
			ts.Server.RunJob(ctx, server.JobCheck)
			cursor, err := a.c.WaitNotify(5 * time.Second)
			require.NoError(t, err)
			require.Positive(t, cursor, "no Notify of the other process's commit")
			got, _ := a.pull(t)
			var seen bool
			for _, ch := range got {
				seen = seen || ch.Row == row
			}
			require.True(t, seen)
		})
	}
}
