package agent_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestCloneWhileFieldEditedThrice: another device edits a field three
// times, syncing each, while a clone's chunks are being served, before the
// chunk that holds the row is read. The clone then pulls from the
// snapshot's head, which replays the three edits. Nothing competed, so the
// clone's conflict log stays empty and the field holds the last edit. On
// the code before the fix the chunk handed the clone the third edit and the
// pull replayed the first against it: a conflict whose loser lies on its
// winner's chain (issue 9's review; simulation seed 235 with truncation).
func TestCloneWhileFieldEditedThrice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, ta := realAgent(t, ts, ts.TeamA)
	var last uuid.UUID
	for i := 0; i < 40; i++ {
		hh, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[i%2], "head_name": "Hộ số " + itoa(i), "phone": "0900000000"})
		require.NoError(t, err)
		if bytes.Compare(hh[:], last[:]) > 0 {
			last = hh
		}
	}
	realSync(t, a, ts, ta)

	// One row per chunk: the household with the highest id is the 40th
	// chunk. The clone asks for a chunk only when one arrives and holds
	// at most a few unstored (its queue, one transaction's group), so
	// when it reports the first chunks stored the server has not read the
	// 40th yet: the edits below are logged above the snapshot's head and
	// are in the row the chunk brings.
	c, tc := realAgent(t, ts, ts.TeamA)
	phones := []string{"0911111111", "0922222222", "0933333333"}
	edited := false
	sc, err := c.Sync(ctx, ts.URL, tc, agent.SyncOptions{IOTimeout: 10 * time.Second, SnapshotLimit: 1, Progress: func(p agent.Progress) {
		if p.Phase != "clone" || edited {
			return
		}
		edited = true
		require.Less(t, p.Done, 12, "the first report comes before the clone reaches the edited row")
		for _, ph := range phones {
			require.NoError(t, a.EditHousehold(ctx, last, agent.Fields{"phone": ph}))
			realSync(t, a, ts, ta)
		}
	}})
	require.NoError(t, err)
	require.True(t, edited, "the clone reported its progress")
	require.Equal(t, 40, sc.Cloned, "every household, by snapshot")
	require.GreaterOrEqual(t, sc.Pulled, 3, "the edits after the snapshot's head, by the pull")

	got, err := c.Show(ctx, "households", last.String())
	require.NoError(t, err)
	require.Equal(t, phones[2], got.Fields["phone"], "the clone holds the last edit")
	cf, err := c.Conflicts(ctx, true)
	require.NoError(t, err)
	for _, x := range cf {
		t.Errorf("the clone's conflict log holds a conflict where nothing competed: %s %s.%s: %v (seq %d) lost to %v (seq %d)",
			x.Table, x.Row[:8], x.Field, x.Loser.Value, x.Loser.Seq, x.Winner.Value, x.Winner.Seq)
	}
	require.Zero(t, sc.Conflicts, "the clone's sync counted no conflict")

	// And it converges with the editor.
	realSync(t, a, ts, ta)
	want, err := a.Snapshot(ctx)
	require.NoError(t, err)
	have, err := c.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, have, "the clone equals the editor\n%s", diffSnap(want, have))
}

// TestFirstCloneAfterOwnEditsDuringPush: a replica that wrote before it
// ever pulled pushes its household, and the volunteer corrects the head's
// name twice while the push is under way (after its last batch left).
// The session's first clone then brings the household as pushed, with
// the name this replica wrote first; the replica holds the third, which
// it wrote over the other two. Nothing competed: its conflict log stays
// empty, it keeps the third name, and its next sync pushes the
// corrections. On the code before the fix the clone merged its own first
// write as a concurrent one (simulation seed 198 with truncation).
func TestFirstCloneAfterOwnEditsDuringPush(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, a, ta, c, tc, hh := cloneDueWithHousehold(t)
	names := []string{"Nguyễn Văn Hai", "Nguyễn Văn Ba"}
	edited := false
	sc, err := c.Sync(ctx, ts.URL, tc, agent.SyncOptions{IOTimeout: 10 * time.Second, Progress: func(p agent.Progress) {
		if p.Phase != "push" || edited {
			return
		}
		edited = true
		for _, n := range names {
			require.NoError(t, c.EditHousehold(ctx, hh, agent.Fields{"head_name": n}))
		}
	}})
	require.NoError(t, err)
	require.True(t, edited, "the push reported its progress")
	require.Positive(t, sc.Cloned, "the first sync cloned")
	pending, err := c.Pending(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, pending, "the corrections made during the push wait for the next sync")

	got, err := c.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, names[1], got.Fields["head_name"], "the replica keeps its last correction")
	cf, err := c.Conflicts(ctx, true)
	require.NoError(t, err)
	for _, x := range cf {
		t.Errorf("the clone's conflict log holds a conflict where nothing competed: %s %s.%s: %v (seq %d) lost to %v (seq %d)",
			x.Table, x.Row[:8], x.Field, x.Loser.Value, x.Loser.Seq, x.Winner.Value, x.Winner.Seq)
	}

	realSync(t, c, ts, tc)
	realSync(t, a, ts, ta)
	want, err := a.Snapshot(ctx)
	require.NoError(t, err)
	have, err := c.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, have, "the replica equals the other\n%s", diffSnap(want, have))
	cf, err = a.Conflicts(ctx, true)
	require.NoError(t, err)
	require.Empty(t, cf, "nor does the other replica's")
}

// TestBackfillAfterFieldEditedThrice: a team gains a hamlet where, since
// the device last pulled, another team's device edited a field three
// times. The device back-fills the hamlet by scoped snapshot, then pulls
// from its cursor, which the back-fill does not move: the pull replays the
// three edits. Nothing competed: its conflict log stays empty and it holds
// the third. On the code before the fix the snapshot handed it the third
// edit (logged below the snapshot's head, above the cursor the pull
// continues from) and the pull replayed the first against it.
func TestBackfillAfterFieldEditedThrice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	gained := ts.OtherHamletA
	teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{gained})
	require.NoError(t, err)
	a, ta := realAgent(t, ts, ts.TeamA)
	c, tc := realAgent(t, ts, teamC.ID)
	_, err = a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ A"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	hh, err := c.AddHousehold(ctx, agent.Fields{"hamlet_code": gained, "head_name": "Hộ C", "phone": "0900000000"})
	require.NoError(t, err)
	realSync(t, c, ts, tc)
	realSync(t, a, ts, ta) // A's cursor is past the household
	phones := []string{"0911111111", "0922222222", "0933333333"}
	for _, ph := range phones {
		require.NoError(t, c.EditHousehold(ctx, hh, agent.Fields{"phone": ph}))
		realSync(t, c, ts, tc)
	}

	changed, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, gained)
	require.NoError(t, err)
	require.True(t, changed)
	sum := realSync(t, a, ts, ta)
	require.NotNil(t, sum.ScopeChange)
	require.Equal(t, []string{gained}, sum.ScopeChange.Gained)

	cf, err := a.Conflicts(ctx, true)
	require.NoError(t, err)
	for _, x := range cf {
		t.Errorf("the back-filled replica's conflict log holds a conflict where nothing competed: %s %s.%s: %v (seq %d) lost to %v (seq %d)",
			x.Table, x.Row[:8], x.Field, x.Loser.Value, x.Loser.Seq, x.Winner.Value, x.Winner.Seq)
	}
	got, err := a.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, phones[2], got.Fields["phone"], "the back-filled replica holds the last edit")
	fresh, tf := realAgent(t, ts, ts.TeamA)
	realSync(t, fresh, ts, tf)
	want, err := fresh.Snapshot(ctx)
	require.NoError(t, err)
	have, err := a.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, have, "the back-filled replica equals a fresh clone\n%s", diffSnap(want, have))
}

// TestCorrectAndMoveInOneSave: a volunteer corrects a household's head and
// moves it to the team's other hamlet in one save, twice over. The server
// applies the move first (hamlet_code sorts first) and logs the row's
// versions again under the new hamlet, the head's old name among them,
// for every device there, this one too. This replica wrote over that name
// itself: nothing competed, its conflict log stays empty. On the code
// before the fix it met the old name, logged again, against its second
// correction, whose base is its first, and recorded a conflict (the
// simulation's silent world, seed 116).
func TestCorrectAndMoveInOneSave(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, ta := realAgent(t, ts, ts.TeamA)
	b, tb := realAgent(t, ts, ts.TeamA)
	hh, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Trần Văn Một"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	realSync(t, b, ts, tb) // B holds it as A wrote it

	require.NoError(t, b.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": ts.HamletsA[1], "head_name": "Trần Văn Hai"}))
	require.NoError(t, b.EditHousehold(ctx, hh, agent.Fields{"head_name": "Trần Văn Ba"}))
	realSync(t, b, ts, tb)
	realSync(t, a, ts, ta)
	realSync(t, b, ts, tb)
	for name, r := range map[string]*agent.Replica{"the mover": b, "the other": a} {
		cf, err := r.Conflicts(ctx, true)
		require.NoError(t, err)
		for _, x := range cf {
			t.Errorf("%s's conflict log holds a conflict where nothing competed: %s %s.%s: %v (seq %d) lost to %v (seq %d)",
				name, x.Table, x.Row[:8], x.Field, x.Loser.Value, x.Loser.Seq, x.Winner.Value, x.Winner.Seq)
		}
		got, err := r.Show(ctx, "households", hh.String())
		require.NoError(t, err)
		require.Equal(t, "Trần Văn Ba", got.Fields["head_name"], name)
		require.Equal(t, ts.HamletsA[1], got.Hamlet, name)
	}
}

// TestFirstCloneAfterOthersWroteOverItsPush: a replica that wrote before
// it ever pulled pushes its household, and the Ack is lost; a
// team-mate corrects the head's name twice, each over the last, and this
// replica's volunteer edits another field of the household. The clone
// (after the push again, answered duplicate) brings the second
// correction, based on the first, which this replica never saw, against
// the name it wrote and the server took: it
// merged them as concurrent and recorded a conflict no one else has
// (simulation silent seed 248311 with truncation). A snapshot is the
// server's state, which already holds what the server took of ours.
func TestFirstCloneAfterOthersWroteOverItsPush(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, a, ta, c, tc, hh := cloneDueWithHousehold(t)
	// The push is taken and its Ack lost with the connection; while the
	// Ack is held back, A takes the household and corrects it twice. C's
	// sync then connects again, pushes again (duplicates) and clones.
	var between error
	proxy, dropped := faultProxy(t, ts.URL[len("http://"):], func(cl, sv net.Conn, fired func()) {
		go func() { io.Copy(sv, cl); sv.Close() }()
		if dropFirstAck(cl, sv) != nil {
			return
		}
		fired()
		between = func() error {
			opts := agent.SyncOptions{IOTimeout: 10 * time.Second}
			if _, err := a.Sync(ctx, ts.URL, ta, opts); err != nil {
				return err
			}
			for _, n := range []string{"Nguyễn Văn Hai", "Nguyễn Văn Ba"} {
				if err := a.EditHousehold(ctx, hh, agent.Fields{"head_name": n}); err != nil {
					return err
				}
				if _, err := a.Sync(ctx, ts.URL, ta, opts); err != nil {
					return err
				}
			}
			return nil
		}()
	})
	// C's volunteer edits another field of the household while the
	// push again is under way: the row has a change to push when the
	// clone comes.
	edited := false
	sc, err := c.Sync(ctx, proxy, tc, agent.SyncOptions{IOTimeout: 10 * time.Second, MinBackoff: 10 * time.Millisecond,
		Progress: func(p agent.Progress) {
			if p.Phase == "push" && !edited {
				edited = true
				require.NoError(t, c.EditHousehold(ctx, hh, agent.Fields{"phone": "0912345678"}))
			}
		}})
	require.NoError(t, err)
	require.True(t, edited, "the push reported its progress")
	require.EqualValues(t, 1, dropped.Load(), "the first Ack was lost")
	require.NoError(t, between)
	require.Positive(t, sc.Cloned, "the sync cloned")
	got, err := c.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, "Nguyễn Văn Ba", got.Fields["head_name"])
	cf, err := c.Conflicts(ctx, true)
	require.NoError(t, err)
	for _, x := range cf {
		t.Errorf("the clone's conflict log holds a conflict where nothing competed: %s %s.%s: %v (seq %d) lost to %v (seq %d)",
			x.Table, x.Row[:8], x.Field, x.Loser.Value, x.Loser.Seq, x.Winner.Value, x.Winner.Seq)
	}
	realSync(t, c, ts, tc) // the phone
	realSync(t, a, ts, ta)
	want, err := a.Snapshot(ctx)
	require.NoError(t, err)
	have, err := c.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, have, "the replica equals the other\n%s", diffSnap(want, have))
}

// cloneDueWithHousehold: a server whose log is not empty (A synced a
// household), so that a new laptop C's first sync clones, and C, not yet
// synced, with a household of its own ("Nguyễn Văn Một").
func cloneDueWithHousehold(t *testing.T) (ts *servertest.TS, a *agent.Replica, ta string, c *agent.Replica, tc string, hh uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	ts = servertest.Start(t)
	a, ta = realAgent(t, ts, ts.TeamA)
	_, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ của A"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	c, tc = realAgent(t, ts, ts.TeamA)
	hh, err = c.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Nguyễn Văn Một"})
	require.NoError(t, err)
	return ts, a, ta, c, tc, hh
}
