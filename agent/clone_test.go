package agent_test

import (
	"context"
	"io"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// fillCommune writes n households in team A's hamlets, a tutoring record
// for every third, edits and one delete, from one agent, and syncs it.
// It returns the agent, its token and a household id.
func fillCommune(t *testing.T, ts *servertest.TS, n int) (*agent.Replica, string, uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	a, ta := realAgent(t, ts, ts.TeamA)
	var first, gone uuid.UUID
	for i := 0; i < n; i++ {
		hh, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[i%2], "head_name": "Hộ số " + itoa(i), "members_count": int64(1 + i%6)})
		require.NoError(t, err)
		if i == 0 {
			first = hh
		}
		if i == 1 {
			gone = hh
		}
		if i%3 == 0 {
			_, err := a.AddTutoring(ctx, hh, agent.Fields{"skill": "vneid_install", "outcome": "independent"})
			require.NoError(t, err)
		}
	}
	require.NoError(t, a.EditHousehold(ctx, first, agent.Fields{"notes": "ghi chú", "phone": "0912345678"}))
	require.NoError(t, a.Delete(ctx, "households", gone))
	realSync(t, a, ts, ta)
	return a, ta, first
}

// TestSnapshotCloneEqualsLogReplay: a replica cloned by snapshot holds the
// same rows and field versions (tombstoned row included) as one built by
// replaying the log, and a later concurrent edit merges the same way on
// both.
func TestSnapshotCloneEqualsLogReplay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, ta, hh := fillCommune(t, ts, 300)

	c, tc := realAgent(t, ts, ts.TeamA)
	sc, err := c.Sync(ctx, ts.URL, tc, agent.SyncOptions{IOTimeout: 10 * time.Second, SnapshotLimit: 37})
	require.NoError(t, err)
	require.Equal(t, 400, sc.Cloned, "300 households (one deleted) and 100 tutoring records, by snapshot")
	require.Zero(t, sc.Pulled, "nothing after the snapshot's head")
	d, td := realAgent(t, ts, ts.TeamA)
	sd, err := d.Sync(ctx, ts.URL, td, agent.SyncOptions{IOTimeout: 10 * time.Second, LogReplay: true})
	require.NoError(t, err)
	require.Zero(t, sd.Cloned)
	require.Positive(t, sd.Pulled)

	want, err := d.Snapshot(ctx)
	require.NoError(t, err)
	got, err := c.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got, "snapshot clone equals log replay\n%s", diffSnap(want, got))
	for _, table := range []string{"households", "tutoring_records"} {
		lw, err := d.List(ctx, table, agent.ListOptions{})
		require.NoError(t, err)
		lg, err := c.List(ctx, table, agent.ListOptions{})
		require.NoError(t, err)
		require.Equal(t, lw, lg, table)
	}

	// The same concurrent edits on both clones, against a's: both end
	// equal to a and to each other, with the loser in their conflicts.
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"notes": "từ A"}))
	time.Sleep(3 * time.Millisecond)
	require.NoError(t, c.EditHousehold(ctx, hh, agent.Fields{"notes": "từ C"}))
	require.NoError(t, d.EditHousehold(ctx, hh, agent.Fields{"notes": "từ D"}))
	for i := 0; i < 2; i++ {
		realSync(t, a, ts, ta)
		realSync(t, c, ts, tc)
		realSync(t, d, ts, td)
	}
	sa, err := a.Snapshot(ctx)
	require.NoError(t, err)
	for name, r := range map[string]*agent.Replica{"snapshot": c, "replay": d} {
		got, err := r.Snapshot(ctx)
		require.NoError(t, err)
		// A replica may collect the deleted household once the server's
		// horizon passes its tombstone (PROTOCOL §7.5), which a slow run
		// reaches on one replica and not on another: the rows compared
		// are the live ones.
		live, liveA := withoutTombstoned(got), withoutTombstoned(sa)
		require.Equal(t, liveA, live, "%s clone converges\n%s", name, diffSnap(liveA, live))
		cf, err := r.Conflicts(ctx, true)
		require.NoError(t, err)
		require.NotEmpty(t, cf, name)
	}
}

// TestSnapshotCloneResumesAfterCut: a connection cut in the middle of a
// clone resumes after the last stored chunk: every row is stored exactly
// once (a clone started again would store the rows of the first attempt
// twice), and the replica equals a clean clone.
func TestSnapshotCloneResumesAfterCut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	fillCommune(t, ts, 600)
	// BulkCloneRows: the indexes dropped, and built again after the resumed clone.
	opts := agent.SyncOptions{IOTimeout: 10 * time.Second, SnapshotLimit: 20, BulkCloneRows: 1}

	clean, tcl := realAgent(t, ts, ts.TeamA)
	sclean, err := clean.Sync(ctx, ts.URL, tcl, opts)
	require.NoError(t, err)
	rows := sclean.Cloned
	require.Equal(t, 800, rows)

	// Cut the first connection once the server has sent half the bytes of
	// a clean clone.
	var storedBeforeCut, stored atomic.Int64
	proxy, cuts := faultProxy(t, ts.URL[len("http://"):], func(c, s net.Conn, fired func()) {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); io.Copy(s, c); s.Close() }()
		io.CopyN(c, s, sclean.BytesReceived/2)
		storedBeforeCut.Store(stored.Load())
		fired()
		s.Close()
		c.Close()
		wg.Wait()
	})
	r, tr := realAgent(t, ts, ts.TeamA)
	var reports []agent.Progress
	opts.Progress = func(p agent.Progress) {
		if p.Phase == "clone" {
			stored.Store(int64(p.Done))
			reports = append(reports, p)
		}
	}
	s, err := r.Sync(ctx, proxy, tr, opts) // Sync reconnects by itself
	require.NoError(t, err)
	require.EqualValues(t, 1, cuts.Load())
	require.Positive(t, storedBeforeCut.Load(), "chunks were stored before the cut")
	require.Less(t, storedBeforeCut.Load(), int64(rows))
	require.Equal(t, rows, s.Cloned, "each row stored once: the clone resumed after its last chunk")
	want, err := clean.Snapshot(ctx)
	require.NoError(t, err)
	got, err := r.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got)
	// The row tables' indexes, dropped for the bulk load, are all back.
	require.Equal(t, indexes(t, clean), indexes(t, r))
	require.Equal(t, indexes(t, agenttest.New(t)), indexes(t, r))
	require.Contains(t, indexes(t, r), "households_hamlet")

	// Progress: totals, and a finite estimate of the time left.
	require.NotEmpty(t, reports)
	last := reports[len(reports)-1]
	require.Equal(t, rows, last.Total)
	require.Equal(t, rows, last.Done)
	sawEstimate := false
	for _, p := range reports {
		require.Equal(t, rows, p.Total)
		require.LessOrEqual(t, p.Done, p.Total)
		if p.Done < p.Total && p.Rate > 0 {
			sawEstimate = true
			require.Positive(t, p.Remaining)
			require.Less(t, p.Remaining, time.Duration(math.MaxInt64/2))
		}
	}
	require.True(t, sawEstimate, "a report before the end carries a rate and the time left")
}

// TestRecloneKeepsOfflineChanges: a replica whose acknowledged cursor is
// below the server's log floor is told to re-clone; it pushes its offline
// changes first, then drops and clones again, and nothing is lost.
func TestRecloneKeepsOfflineChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, ta, hh := fillCommune(t, ts, 50)
	b, tb := realAgent(t, ts, ts.TeamA)
	realSync(t, b, ts, tb)
	_, err := b.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[1], "head_name": "Hộ đầu của B"})
	require.NoError(t, err)
	realSync(t, b, ts, tb)
	realSync(t, a, ts, ta) // its pull acknowledges a's cursor
	devs, err := ts.Admin.ListDevices(ctx)
	require.NoError(t, err)
	for _, d := range devs {
		if d.Replica == a.ID() {
			require.Positive(t, d.Cursor)
		}
	}

	// Offline: a new household and an edit; meanwhile b writes, and the
	// server truncates the log past a's cursor.
	added, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ mới ngoại tuyến"})
	require.NoError(t, err)
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"notes": "sửa ngoại tuyến"}))
	fromB, err := b.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[1], "head_name": "Hộ của B"})
	require.NoError(t, err)
	realSync(t, b, ts, tb)
	// As truncation up to the head would (a floor never passes the head:
	// a fresh clone pulls from the head).
	head, err := ts.Store.Head(ctx)
	require.NoError(t, err)
	setFloor(t, ts, head, ts.HamletsA...)

	s := realSync(t, a, ts, ta)
	require.Positive(t, s.Pushed, "the offline household and the edit were pushed")
	require.Zero(t, s.Rejected)
	require.Positive(t, s.Cloned, "then it cloned again")
	n, err := a.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	for _, id := range []uuid.UUID{added, fromB} {
		d, err := a.Show(ctx, "households", id.String())
		require.NoError(t, err, "row %s", id)
		require.NotNil(t, d)
	}
	d, err := a.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, "sửa ngoại tuyến", d.Fields["notes"])
	// The re-clone equals a fresh clone of the server.
	c, tc := realAgent(t, ts, ts.TeamA)
	realSync(t, c, ts, tc)
	want, err := c.Snapshot(ctx)
	require.NoError(t, err)
	got, err := a.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got, diffSnap(want, got))
}

// setFloor raises the log floor of scopes as log truncation would.
func setFloor(t *testing.T, ts *servertest.TS, seq uint64, scopes ...string) {
	t.Helper()
	require.NoError(t, ts.Store.Update(context.Background(), func(tx server.Tx) error {
		for _, sc := range scopes {
			if err := tx.RaiseFloor(sc, seq); err != nil {
				return err
			}
		}
		return nil
	}))
}

// TestSnapshotBadRequests: a snapshot request for hamlets outside the
// device's scope, or after a position the server cannot resume from, gets
// a clear error, and the connection stays usable.
func TestSnapshotBadRequests(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	d := ts.NewDevice(t, ts.TeamA)
	c := ts.Connect(t, d)
	cases := []struct {
		name string
		req  syncproto.SnapshotRequest
		code syncproto.Code
		msg  string
	}{
		{"scope outside the device", syncproto.SnapshotRequest{Scopes: []string{ts.HamletsB[0]}}, syncproto.CodeOutOfScope, "not in this device's scope"},
		{"unknown table", syncproto.SnapshotRequest{Head: 1, After: syncproto.SnapshotPos{Table: "customers", Row: uuid.New()}}, syncproto.CodeBadCursor, "start the clone again"},
		{"position without head", syncproto.SnapshotRequest{After: syncproto.SnapshotPos{Table: "households", Row: uuid.New()}}, syncproto.CodeBadCursor, "Head of its first chunk"},
		{"head beyond the log", syncproto.SnapshotRequest{Head: 1 << 40}, syncproto.CodeBadCursor, "beyond the log head"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, c.Send(&tc.req))
			m, err := c.Recv()
			require.NoError(t, err)
			em, ok := m.(*syncproto.ErrorMsg)
			require.True(t, ok, "got %T", m)
			require.Equal(t, tc.code, em.Code)
			require.Contains(t, em.Msg, tc.msg)
			require.False(t, em.Fatal)
		})
	}
	// Still usable: a good request gets a chunk.
	require.NoError(t, c.Send(&syncproto.SnapshotRequest{}))
	m, err := c.RecvAnswer()
	require.NoError(t, err)
	ch, ok := m.(*syncproto.SnapshotChunk)
	require.True(t, ok)
	require.False(t, ch.More)
}

// indexes lists a replica's index names.
func indexes(t *testing.T, r *agent.Replica) []string {
	t.Helper()
	rows, err := r.DB().Query(`SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name`)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		out = append(out, n)
	}
	require.NoError(t, rows.Err())
	return out
}
