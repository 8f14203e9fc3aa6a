package agent_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// The own writes a laptop keeps while their row is out of its scope
// (agent/away.go, PROTOCOL §7.5), through the pull's own entry points:
// pages are made here, as the server would send them, where a test over
// a real link cannot make them arrive as it needs.

// foreignRow is a household written by another replica, in hamletA.
type foreignRow struct {
	now   syncproto.HLC
	other uuid.UUID
	row   uuid.UUID
}

func newForeignRow(t *testing.T, r *agent.Replica) foreignRow {
	t.Helper()
	return foreignRow{now: localHLC(t, r), other: uuid.New(), row: uuid.New()}
}

// version is the other replica's write seq of field (based on its write
// base, 0: none), stamped h (0: just after the laptop's clock).
func (x foreignRow) version(field string, v syncproto.Value, seq, base uint64, h syncproto.HLC) syncproto.Change {
	if h == 0 {
		h = x.now + syncproto.HLC(seq)
	}
	c := syncproto.Change{Table: "households", Row: x.row, Field: field, Value: v, HLC: h,
		Dot: syncproto.Dot{Replica: x.other, Seq: seq}, Scope: hamletA}
	if base != 0 {
		c.Base = syncproto.Dot{Replica: x.other, Seq: base}
	}
	return c
}

func (x foreignRow) evict() []syncproto.Eviction {
	return []syncproto.Eviction{{Table: "households", Row: x.row, NewScope: "32002-02"}}
}

// pulledWithCorrection: the laptop pulls the household (the head's name
// other:1, the hamlet other:2) and corrects the name; it returns the
// name's version and the number of changes pending.
func (x foreignRow) pulledWithCorrection(t *testing.T, r *agent.Replica) (syncproto.Change, int) {
	t.Helper()
	ctx := context.Background()
	name := x.version("head_name", syncproto.String("Nguyễn Văn Bình"), 1, 0, 0)
	_, err := r.ApplyChanges(ctx, &syncproto.Changes{From: 0, To: 1, Changes: []syncproto.Change{
		name, x.version("hamlet_code", syncproto.String(hamletA), 2, 0, 0)}})
	require.NoError(t, err)
	require.NoError(t, r.EditHousehold(ctx, x.row, agent.Fields{"head_name": "Nguyễn Văn Bính"}))
	pending, err := r.Pending(ctx)
	require.NoError(t, err)
	return name, pending
}

func requireName(t *testing.T, r *agent.Replica, row uuid.UUID, want, why string) {
	t.Helper()
	got, err := r.Show(context.Background(), "households", row.String())
	require.NoError(t, err)
	require.Equal(t, want, got.Fields["head_name"], why)
}

// A household another team moves out of this laptop's hamlets and back,
// while the laptop's correction of it waits to be pushed: when the
// eviction and the move back arrive in one pull transaction (pages that
// arrived behind each other), the row comes back with the correction.
func TestRowBackInTheSamePullKeepsItsPendingEdit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := agenttest.New(t)
	x := newForeignRow(t, r)
	name, pending := x.pulledWithCorrection(t, r)

	require.NoError(t, agent.ApplyGroup(ctx, r,
		&syncproto.Changes{From: 1, To: 2, Evict: x.evict()},
		&syncproto.Changes{From: 2, To: 3, Changes: []syncproto.Change{
			name, x.version("hamlet_code", syncproto.String(hamletA), 4, 3, 0)}}))

	requireName(t, r, x.row, "Nguyễn Văn Bính", "the row came back with the correction still to push")
	after, err := r.Pending(ctx)
	require.NoError(t, err)
	require.Equal(t, pending, after, "the correction still waits to be pushed")
	cs, err := r.Conflicts(ctx, true)
	require.NoError(t, err)
	require.Empty(t, cs)
}

// Out, back and out again in one page (a page may hold a row's changes
// and then its eviction), then back while the correction is still
// unpushed: the second eviction must keep what the first kept, which the
// pull holds only in memory (review 30 D2).
func TestRowOutBackOutKeepsPendingEdit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := agenttest.New(t)
	x := newForeignRow(t, r)
	name, pending := x.pulledWithCorrection(t, r)

	for _, page := range []*syncproto.Changes{
		{From: 1, To: 2, Evict: x.evict()},
		{From: 2, To: 3, Changes: []syncproto.Change{name, x.version("hamlet_code", syncproto.String(hamletA), 4, 3, 0)}, Evict: x.evict()},
		{From: 3, To: 4, Changes: []syncproto.Change{name, x.version("hamlet_code", syncproto.String(hamletA), 6, 5, 0)}},
	} {
		_, err := r.ApplyChanges(ctx, page)
		require.NoError(t, err)
	}
	requireName(t, r, x.row, "Nguyễn Văn Bính", "the row came back with the correction still to push")
	after, err := r.Pending(ctx)
	require.NoError(t, err)
	require.Equal(t, pending, after)
	require.NoError(t, r.Check(ctx))
}

// A write that lost to the kept correction wins once the server restamps
// the correction below it (its stamp was beyond the skew bound) while the
// row is away: when the row comes back, the move's re-log of that write
// must be decided again by the stamps, not taken for a version held
// (review 30 D1).
func TestKeptCorrectionRestampedBelowItsLoser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := agenttest.New(t)
	x := newForeignRow(t, r)
	x.pulledWithCorrection(t, r)
	snap, err := r.Snapshot(ctx)
	require.NoError(t, err)
	w := snap[syncproto.FieldKey{Table: "households", Row: x.row, Field: "head_name"}]
	require.Equal(t, r.ID(), w.Dot.Replica)

	// X, concurrent with the correction, stamped just below it: it loses here.
	lost := x.version("head_name", syncproto.String("Nguyễn Văn Bình X"), 3, 1, w.HLC-1)
	_, err = r.ApplyChanges(ctx, &syncproto.Changes{From: 1, To: 2, Changes: []syncproto.Change{lost}})
	require.NoError(t, err)
	requireName(t, r, x.row, "Nguyễn Văn Bính", "the correction wins here")

	_, err = r.ApplyChanges(ctx, &syncproto.Changes{From: 2, To: 3, Evict: x.evict()})
	require.NoError(t, err)
	require.NoError(t, agent.AckPending(ctx, r, func(c syncproto.Change) syncproto.Result {
		if c.Dot == w.Dot {
			return syncproto.Result{Status: syncproto.ResultApplied, HLC: lost.HLC - 1}
		}
		return syncproto.Result{Status: syncproto.ResultApplied}
	}))
	_, err = r.ApplyChanges(ctx, &syncproto.Changes{From: 3, To: 4, Changes: []syncproto.Change{
		lost, x.version("hamlet_code", syncproto.String(hamletA), 5, 4, 0)}})
	require.NoError(t, err)
	requireName(t, r, x.row, "Nguyễn Văn Bình X", "X beats the restamped correction, as on the server")
}

// localHLC is a stamp of r's clock now: a household's, added and read.
func localHLC(t *testing.T, r *agent.Replica) syncproto.HLC {
	t.Helper()
	hh := addHousehold(t, r, "Trần Thị Mốc")
	snap, err := r.Snapshot(context.Background())
	require.NoError(t, err)
	return snap[syncproto.FieldKey{Table: "households", Row: hh, Field: "head_name"}].HLC
}
