package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestServerRestoredResendKeepsDotsUnique: A edits a field twice after the
// backup (only the last version survives on A), and teammate C pulls both
// before the server is restored. A's resend must not give its last
// version, or its next write, a dot C already holds for another write, or
// C takes A's new value for a duplicate and never converges.
func TestServerRestoredResendKeepsDotsUnique(t *testing.T) {
	t.Parallel()
	t.Run("history kept", func(t *testing.T) { testRestoredResendDots(t, false) })
	// `hamlet-agent gc` dropped the overwritten version before the restore.
	t.Run("history compacted", func(t *testing.T) {
		testRestoredResendDots(t, true)
	})
}

func testRestoredResendDots(t *testing.T, compact bool) {
	ctx := context.Background()
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	a, ta := realAgent(t, ts, ts.TeamA)
	c, tc := realAgent(t, ts, ts.TeamA)
	h0 := ts.HamletsA[0]

	hh, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": h0, "head_name": "Hộ sửa hai lần", "phone": "0900000000"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	realSync(t, c, ts, tc)

	restore := backupNow(t, ts)

	// After the backup: A edits the phone twice, acknowledged; C pulls both.
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"phone": "0911111111"}))
	time.Sleep(3 * time.Millisecond)
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"phone": "0922222222"}))
	realSync(t, a, ts, ta)
	realSync(t, c, ts, tc)
	if compact {
		_, err := a.CompactHistory(ctx)
		require.NoError(t, err)
	}

	ts2 := restore()

	// C first, while the restored log still ends below its cursor: it
	// replays the log (a laptop that first syncs once teammates have
	// carried the head past its cursor cannot tell; see PROTOCOL.md §7.1).
	realSync(t, c, ts2, tc)
	sa := realSync(t, a, ts2, ta)
	require.Positive(t, sa.Resent)
	require.NotNil(t, sa.Fork, "sent again under a replica id of its own")
	// A edits the phone again after the resend.
	time.Sleep(3 * time.Millisecond)
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"phone": "0933333333"}))
	for i := 0; i < 2; i++ {
		realSync(t, a, ts2, ta)
		realSync(t, c, ts2, tc)
	}

	s, ts3 := realAgent(t, ts2, ts2.TeamA)
	realSync(t, s, ts2, ts3)
	want, err := s.Snapshot(ctx)
	require.NoError(t, err)
	for name, r := range map[string]*agent.Replica{"a": a, "c": c} {
		d, err := r.Show(ctx, "households", hh.String())
		require.NoError(t, err)
		require.Equal(t, "0933333333", d.Fields["phone"], "%s: A's last phone edit", name)
		got, err := r.Snapshot(ctx)
		require.NoError(t, err)
		require.Equal(t, want, got, "replica %s equals the server\n%s", name, diffSnap(want, got))
	}
	// Nothing conflicted on the server nor on A: A overwrote its own
	// values one after the other. C, which held A's versions under the
	// numbers the server lost, logs the copies sent again under A's new id
	// as concurrent writes of the same value (a known cost of a restore).
	for name, r := range map[string]*agent.Replica{"server": s, "a": a} {
		cs, err := r.Conflicts(ctx, true)
		require.NoError(t, err)
		require.Empty(t, cs, "%s: spurious conflicts", name)
	}
}
