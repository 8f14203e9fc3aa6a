package agent_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// ownSeqs is the sequence numbers of the change-log entries of r above
// from, in order.
func ownSeqs(t *testing.T, r *agent.Replica, from uint64) []uint64 {
	t.Helper()
	rows, err := r.DB().Query(`SELECT seq FROM outbox WHERE seq > ? ORDER BY seq`, int64(from))
	require.NoError(t, err)
	defer rows.Close()
	var out []uint64
	for rows.Next() {
		var s int64
		require.NoError(t, rows.Scan(&s))
		out = append(out, uint64(s))
	}
	require.NoError(t, rows.Err())
	return out
}

// metaNumber reads a number the replica keeps in agent_meta.
func metaNumber(t *testing.T, r *agent.Replica, key string) uint64 {
	t.Helper()
	var v int64
	require.NoError(t, r.DB().QueryRow(`SELECT coalesce((SELECT CAST(value AS INTEGER) FROM agent_meta WHERE key = ?), 0)`, key).Scan(&v))
	return uint64(v)
}

// serverChangesOf is every change of replica id the server's log holds,
// read by another device of team A through the protocol.
func serverChangesOf(t *testing.T, ts *servertest.TS, id syncproto.ReplicaID) []syncproto.Change {
	t.Helper()
	c := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	defer c.Close()
	changes, _, _, err := c.PullAll(0)
	require.NoError(t, err)
	var out []syncproto.Change
	for _, ch := range changes {
		if ch.Dot.Replica == id {
			out = append(out, ch)
		}
	}
	return out
}

// A volunteer's laptop, offline after a sync, adds households and
// corrects their phones many times; then a page of its change log in the
// middle of those corrections is damaged, and `repair` rebuilds the
// replica. The entries on that page whose values a later correction
// replaced are lost for good (no row version carries them): the pending
// changes left have gaps in their sequence numbers, which the server
// refuses, so the next sync's Welcome renumbers them to follow what the
// server holds (closeRepairGaps, renumberAbove), rewriting every dot
// that named them. The volunteer must get every household with its last
// phone on the server and on a teammate's laptop, the same versions on
// both, no conflict and no fork where nothing competed, and a counter
// that goes on from there: her next correction reaches the server too.
//
// When the damage took a page of the row states too, the rows it held
// are rebuilt from the changes the log keeps, and their history lacks
// the lost corrections: a base naming one is then taken back to the
// correction of the field the log keeps before it, as the history would
// have taken it.
func TestRepairedLogGapsRenumberedAtTheNextSync(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		states bool // a page of the row states is damaged as well
	}{
		{"a page of the log", false},
		{"a page of the log and one of the row states", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			repairedLogGapsRenumbered(t, tc.states)
		})
	}
}

func repairedLogGapsRenumbered(t *testing.T, states bool) {
	ctx := context.Background()
	ts := servertest.Start(t)
	home := ts.HamletsA[0]
	path := filepath.Join(t.TempDir(), "a.db")
	a, err := agent.Open(ctx, path)
	require.NoError(t, err)
	ta, _, err := a.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
	require.NoError(t, err)
	self := a.ID()
	// The households reach the server, and a teammate's laptop.
	const households, rounds = 8, 20
	var ids []syncproto.RowID
	want := map[syncproto.RowID]string{}
	for i := range households {
		id, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": fmt.Sprintf("Nguyễn Văn Hộ %d", i), "phone": "0900000000"})
		require.NoError(t, err)
		ids = append(ids, id)
		want[id] = "0900000000"
	}
	realSync(t, a, ts, ta)
	pushed := metaNumber(t, a, "seq")
	require.Positive(t, pushed)
	mate, tm := realAgent(t, ts, ts.TeamA)
	realSync(t, mate, ts, tm)

	// Offline: their phones corrected round after round, so that every
	// page of the log holds corrections a later one replaced.
	tick()
	for round := range rounds {
		for i, id := range ids {
			phone := fmt.Sprintf("09%02d%02d%04d", i, round, round*7+i)
			require.NoError(t, a.EditHousehold(ctx, id, agent.Fields{"phone": phone}))
			want[id] = phone
		}
	}
	written := metaNumber(t, a, "seq")
	var leaves []int64
	// In key order (the b-tree path), so that the page lost holds
	// corrections in the middle of the rounds, with more after it.
	rows, err := a.DB().Query(`SELECT pageno FROM dbstat WHERE name = 'outbox' AND pagetype = 'leaf' ORDER BY path`)
	require.NoError(t, err)
	for rows.Next() {
		var p int64
		require.NoError(t, rows.Scan(&p))
		leaves = append(leaves, p)
	}
	require.NoError(t, rows.Err())
	rows.Close()
	require.GreaterOrEqual(t, len(leaves), 3, "the log spans pages")
	var stateLeaf int64
	if states {
		require.NoError(t, a.DB().QueryRow(`SELECT pageno FROM dbstat WHERE name = 'row_state' AND pagetype = 'leaf' ORDER BY path LIMIT 1`).Scan(&stateLeaf))
	}
	require.NoError(t, a.Close())

	// A page in the middle of the log turns to junk, as a failing disk
	// leaves it.
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = []byte{0xA5, 0x5A, 0xFF, 0x13}[i%4]
	}
	_, err = f.WriteAt(junk, (leaves[len(leaves)/2]-1)*4096)
	require.NoError(t, err)
	if states {
		_, err = f.WriteAt(junk, (stateLeaf-1)*4096)
		require.NoError(t, err)
	}
	require.NoError(t, f.Close())

	rep, err := agent.Repair(ctx, path, agent.Options{})
	require.NoError(t, err)
	t.Logf("repair: %+v", rep)
	require.Positive(t, rep.LostPending, "corrections replaced later were lost with the page")
	a, err = agent.Open(ctx, path)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	require.Equal(t, self, a.ID())
	left := ownSeqs(t, a, pushed)
	require.NotEmpty(t, left)
	t.Logf("pushed %d, written %d, %d changes left up to %d", pushed, written, len(left), left[len(left)-1])
	require.Less(t, uint64(len(left)), left[len(left)-1]-pushed, "the pending changes left have gaps: %v", left)

	sum := realSync(t, a, ts, ta)
	require.Nil(t, sum.Fork, "nothing was pushed under this id by another copy: no fork")
	require.Equal(t, self, a.ID())
	n, err := a.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "every change left reached the server")

	// What the server holds of this laptop: every number once, from 1 to
	// the counter without a gap, and below what it wrote before the
	// repair (the lost ones are not numbered again).
	top := metaNumber(t, a, "seq")
	require.Less(t, top, written)
	require.Equal(t, top, metaNumber(t, a, "sent_seq"))
	seen := map[uint64]bool{}
	var high uint64
	for _, ch := range serverChangesOf(t, ts, self) {
		require.False(t, seen[ch.Dot.Seq], "the server holds two changes numbered %d", ch.Dot.Seq)
		seen[ch.Dot.Seq] = true
		if ch.Dot.Seq > high {
			high = ch.Dot.Seq
		}
	}
	require.Equal(t, top, high, "the counter is at the last number the server holds")

	// The teammate pulls the corrections over the phones she holds.
	realSync(t, mate, ts, tm)
	for id, phone := range want {
		d, err := mate.Show(ctx, "households", id.String())
		require.NoError(t, err, "household %s reached the team", id)
		require.Equal(t, phone, d.Fields["phone"], "household %s has its last phone", id)
	}
	requireSameSnapshot(t, mate, a)
	for _, r := range []struct {
		name string
		r    *agent.Replica
	}{{"the teammate's laptop", mate}, {"the volunteer's laptop", a}} {
		cf, err := r.r.Conflicts(ctx, true)
		require.NoError(t, err)
		for _, c := range cf {
			t.Errorf("%s lists a conflict: household %s phone %v (seq %d) lost to %v (seq %d)", r.name, c.Row[:8], c.Loser.Value, c.Loser.Seq, c.Winner.Value, c.Winner.Seq)
		}
	}
	require.False(t, t.Failed(), "nothing competed with the volunteer's corrections")

	// The counter goes on from there: the next correction follows it and
	// the server takes it.
	tick()
	require.NoError(t, a.EditHousehold(ctx, ids[0], agent.Fields{"phone": "0999999999"}))
	require.Equal(t, top+1, metaNumber(t, a, "seq"))
	sum = realSync(t, a, ts, ta)
	require.Nil(t, sum.Fork)
	require.Equal(t, 1, sum.Pushed)
	realSync(t, mate, ts, tm)
	d, err := mate.Show(ctx, "households", ids[0].String())
	require.NoError(t, err)
	require.Equal(t, "0999999999", d.Fields["phone"])
	requireSameSnapshot(t, mate, a)
}

// requireSameSnapshot: got holds every field at the version want does.
func requireSameSnapshot(t *testing.T, want, got *agent.Replica) {
	t.Helper()
	w, err := want.Snapshot(context.Background())
	require.NoError(t, err)
	g, err := got.Snapshot(context.Background())
	require.NoError(t, err)
	require.Equal(t, w, g, "the replicas converge\n%s", diffSnap(w, g))
}
