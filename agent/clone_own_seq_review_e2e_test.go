package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestRepairedRecloneRowAckedMidCloneNoFalseConflict: as
// TestRecloneRowAckedMidCloneNoFalseConflict, but the re-clone is the one
// a repaired replica runs. Repair keeps the replica id and the rows but
// not acked_seq, so the listing's clone_own_seq is 0 and the Ack notes
// none of the laptop's own versions, though the server took them long
// before the clone's head: her phone of long ago meets the teammate's
// second phone as a concurrent write.
func TestRepairedRecloneRowAckedMidCloneNoFalseConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	home := ts.HamletsA[0]
	path := filepath.Join(t.TempDir(), "a.db")
	opts := agent.Options{}
	a, err := agent.OpenWith(ctx, path, opts)
	require.NoError(t, err)
	ta, _, err := a.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
	require.NoError(t, err)
	ids := householdsByID(t, a, home, "Lý Thị Thu", "Trần Văn Hai", "Ngô Thị Ba", "Đỗ Văn Bốn")
	realSync(t, a, ts, ta)
	x := ids[len(ids)-1]
	b, tb := realAgent(t, ts, ts.TeamA)
	realSync(t, b, ts, tb)
	require.NoError(t, b.EditHousehold(ctx, x, agent.Fields{"phone": "0902000002"}))
	realSync(t, b, ts, tb)

	require.NoError(t, a.Close())
	require.NoError(t, os.WriteFile(path+".damaged", []byte(`{"reason":"test"}`), 0o600))
	rr, err := agent.Repair(ctx, path, opts)
	require.NoError(t, err)
	require.False(t, rr.Lost(), "%+v", rr)
	require.False(t, rr.NewReplicaID)
	a, err = agent.OpenWith(ctx, path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })

	syncCutInClone(t, a, ts, ta, 1)

	tick()
	require.NoError(t, b.EditHousehold(ctx, x, agent.Fields{"phone": "0903000003"}))
	realSync(t, b, ts, tb)
	tick()
	require.NoError(t, a.EditHousehold(ctx, x, agent.Fields{"head_name": "Đỗ Văn Năm"}))
	realSync(t, a, ts, ta)

	cf, err := a.Conflicts(ctx, true)
	require.NoError(t, err)
	require.Empty(t, cf, "the laptop's phone of long ago did not compete with the teammate's corrections")
	c, tc := realAgent(t, ts, ts.TeamA)
	realSync(t, c, ts, tc)
	want, err := c.Snapshot(ctx)
	require.NoError(t, err)
	got, err := a.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got, "the laptop equals the server\n%s", diffSnap(want, got))
}

// TestRecloneAckedRowOwnCorrectionCompetedIsAConflict: the volunteer
// corrects a household's phone and syncs; a teammate who never pulled
// her correction writes another phone over the first, offline. The
// laptop is told to clone again, cut between chunks; the teammate syncs
// (after the clone's head: the server lists the conflict, the later phone
// winning), and the volunteer corrects the household's head, which the
// server acknowledges during the cut clone and so notes the row's
// versions, her phone among them. The pull after the clone brings the
// teammate's phone, written over the first phone: a version this laptop
// saw and replaced itself, so the teammate's write truly competed with
// her correction, and her laptop lists the conflict too.
func TestRecloneAckedRowOwnCorrectionCompetedIsAConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	home := ts.HamletsA[0]
	a, ta := realAgent(t, ts, ts.TeamA)
	ids := householdsByID(t, a, home, "Lý Thị Thu", "Trần Văn Hai", "Ngô Thị Ba", "Đỗ Văn Bốn")
	realSync(t, a, ts, ta)
	x := ids[len(ids)-1]
	b, tb := realAgent(t, ts, ts.TeamA)
	realSync(t, b, ts, tb)
	tick()
	require.NoError(t, a.EditHousehold(ctx, x, agent.Fields{"phone": "0902000002"}))
	realSync(t, a, ts, ta)
	tick()
	require.NoError(t, b.EditHousehold(ctx, x, agent.Fields{"phone": "0903000003"}))

	head, err := ts.Store.Head(ctx)
	require.NoError(t, err)
	setFloor(t, ts, head, ts.HamletsA...)
	syncCutInClone(t, a, ts, ta, 1)

	realSync(t, b, ts, tb)
	tick()
	require.NoError(t, a.EditHousehold(ctx, x, agent.Fields{"head_name": "Đỗ Văn Năm"}))
	realSync(t, a, ts, ta)

	cb, err := b.Conflicts(ctx, true)
	require.NoError(t, err)
	t.Logf("teammate's conflicts: %v", cb)
	cf, err := a.Conflicts(ctx, true)
	require.NoError(t, err)
	require.Len(t, cf, 1, "her correction 0902000002 lost to the teammate's 0903000003, written over 0901000001")
	c, tc := realAgent(t, ts, ts.TeamA)
	realSync(t, c, ts, tc)
	want, err := c.Snapshot(ctx)
	require.NoError(t, err)
	got, err := a.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got, "the laptop equals the server\n%s", diffSnap(want, got))
}
