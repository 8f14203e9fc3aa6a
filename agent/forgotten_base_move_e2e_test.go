package agent_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestMovedRowKeepsItsBasesForADeviceOfItsNewHamlet (issue 17: seed 721439
// of the wide and silent worlds with truncation): a volunteer adds a
// household in the team's first hamlet and, offline, moves it to the
// second. A teammate corrects the head's name (based on the volunteer's).
// The team then loses the first hamlet, and the server's collection clears
// the bases of the versions there: no device covers that hamlet any more.
// The volunteer's laptop syncs: its move is taken (made while the team held
// the hamlet) and the household is logged again into the second hamlet,
// its current versions with their bases. The correction came with none,
// and the laptop, which holds its own earlier name, recorded a conflict
// between its name and the correction made over it: a conflict the server
// and the teammate never had.
func TestMovedRowKeepsItsBasesForADeviceOfItsNewHamlet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	first, second := ts.HamletsA[0], ts.HamletsA[1]
	l, tl := realAgent(t, ts, ts.TeamA)
	m, tm := realAgent(t, ts, ts.TeamA)
	hh, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": first, "head_name": "Tô Văn Ba"})
	require.NoError(t, err)
	realSync(t, l, ts, tl)
	realSync(t, m, ts, tm)

	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": second}))
	require.NoError(t, m.EditHousehold(ctx, hh, agent.Fields{"head_name": "Tô Văn Bá"}))
	realSync(t, m, ts, tm)
	realSync(t, m, ts, tm)
	tick() // the move was made while the team held the first hamlet
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, first)
	require.NoError(t, err)
	require.True(t, changed)
	_, err = ts.Server.GC(ctx)
	require.NoError(t, err)

	realSync(t, l, ts, tl)
	realSync(t, l, ts, tl)
	d, err := l.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, "Tô Văn Bá", d.Fields["head_name"])
	require.Equal(t, second, d.Fields["hamlet_code"])
	cs, err := l.Conflicts(ctx, true)
	require.NoError(t, err)
	require.Empty(t, cs, "the laptop records a conflict between its name and the correction made over it")
}

// The same, with the volunteer's laptop left out of the horizon when the
// server collects: its team covers no hamlet at that moment (an operator
// moving a team removes the old hamlets before adding the new), its
// device is revoked (a laptop reported lost, then found and restored), or
// it is silent past the horizon. Each comes back with its old cursor, below
// versions whose bases collection cleared, and met them as none: the same
// false conflict (review 32c, D1). Collection now raises a floor under
// every hamlet to the horizon it cleared bases at (PROTOCOL §13), so such
// a laptop pushes, then clones again.
func TestMovedRowKeepsItsBasesForALaptopLeftOut(t *testing.T) {
	t.Parallel()
	for _, absent := range []string{"emptied", "revoked", "silent"} {
		for _, truncate := range []bool{false, true} {
			name := absent + "/compact"
			if truncate {
				name = absent + "/truncate"
			}
			t.Run(name, func(t *testing.T) { movedRowLeftOut(t, absent, truncate) })
		}
	}
}

func movedRowLeftOut(t *testing.T, absent string, truncate bool) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) {
		c.GCInterval, c.TruncateLog, c.Now, c.SilentAfter = -1, truncate, clk.now, time.Hour
	}))
	first, second := ts.HamletsA[0], ts.HamletsA[1]
	l, tl := realAgent(t, ts, ts.TeamA)
	m, tm := realAgent(t, ts, ts.TeamA)
	hh, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": first, "head_name": "Tô Văn Ba"})
	require.NoError(t, err)
	realSync(t, l, ts, tl)
	realSync(t, m, ts, tm)

	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": second}))
	require.NoError(t, m.EditHousehold(ctx, hh, agent.Fields{"head_name": "Tô Văn Bá"}))
	realSync(t, m, ts, tm)
	realSync(t, m, ts, tm)
	tick() // the move was made while the team held the first hamlet
	e, err := l.Enrollment(ctx)
	require.NoError(t, err)
	switch absent {
	case "emptied":
		for _, h := range []string{first, second} {
			_, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, h)
			require.NoError(t, err)
		}
	case "revoked":
		require.NoError(t, ts.Admin.RevokeDevice(ctx, e.DeviceID))
		_, err = ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, first)
		require.NoError(t, err)
	case "silent":
		ts.WaitSessionsEnded(t) // a session still ending would be seen active after the jump
		clk.advance(2 * time.Hour)
		realSync(t, m, ts, tm) // the teammate is back; the volunteer is not
		_, err = ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, first)
		require.NoError(t, err)
	}
	st, err := ts.Server.GC(ctx)
	require.NoError(t, err)
	require.NotZero(t, st.Bases, "collection clears bases the horizon passed: %+v", st)
	switch absent {
	case "emptied":
		_, err = ts.Admin.AddTeamHamlet(ctx, ts.TeamA, second)
	case "revoked":
		_, err = ts.Admin.RestoreDevice(ctx, e.DeviceID)
	}
	require.NoError(t, err)

	realSync(t, l, ts, tl)
	realSync(t, l, ts, tl)
	d, err := l.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, "Tô Văn Bá", d.Fields["head_name"])
	require.Equal(t, second, d.Fields["hamlet_code"])
	cs, err := l.Conflicts(ctx, true)
	require.NoError(t, err)
	require.Empty(t, cs, "the laptop records a conflict between its name and the correction made over it")
}

// One laptop enrolled in another team and never used, or silent for
// months, must not keep every team's bases: a province always has one.
// Collection counts the devices the horizon counts, as it does for the
// log, and of those the ones that acknowledged a pull (review 32c, N1:
// counting every device, silent and never seen too, it cleared nothing
// anywhere; review 33, N2: an enrolment never used still counted, at
// cursor 0, until the horizon passed it).
func TestDeadLaptopElsewhereDoesNotStopBaseClearing(t *testing.T) {
	t.Parallel()
	for _, silent := range []bool{false, true} {
		name := "enrolled today, never used"
		if silent {
			name = "silent past the horizon"
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clk := &fakeClock{t: time.Now()}
			ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) {
				c.GCInterval, c.Now, c.SilentAfter = -1, clk.now, time.Hour
			}))
			dead, td := realAgent(t, ts, ts.TeamB)
			if silent {
				realSync(t, dead, ts, td)
				realSync(t, dead, ts, td)
				ts.WaitSessionsEnded(t) // a session still ending would be seen active after the jump
				clk.advance(2 * time.Hour)
			}
			l, tl := realAgent(t, ts, ts.TeamA)
			hh, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Tô Văn Ba"})
			require.NoError(t, err)
			realSync(t, l, ts, tl)
			tick()
			require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"head_name": "Tô Văn Bá"}))
			realSync(t, l, ts, tl)
			realSync(t, l, ts, tl)
			st, err := ts.Server.GC(ctx)
			require.NoError(t, err)
			require.NotZero(t, st.Bases, "the correction's base is cleared: %+v", st)

			// The dead laptop comes to life: it clones, and holds what a
			// fresh clone holds.
			realSync(t, dead, ts, td)
			realSync(t, dead, ts, td)
			fresh, tf := realAgent(t, ts, ts.TeamB)
			realSync(t, fresh, ts, tf)
			want, err := fresh.Snapshot(ctx)
			require.NoError(t, err)
			got, err := dead.Snapshot(ctx)
			require.NoError(t, err)
			require.Equal(t, want, got, "%s", diffSnap(want, got))
		})
	}
}

// flushHeld is a store whose next activity write (Touch), once armed,
// waits until a collection has committed (or, when none comes, a while):
// a flush of device activity descheduled between taking the activity
// from memory and writing it, as on a loaded machine.
type flushHeld struct {
	server.Store
	mu        sync.Mutex
	armed     bool
	held      chan struct{} // closed when the armed Touch is waiting
	collected chan struct{} // closed when a collection committed while it waited
}

func (s *flushHeld) arm() {
	s.mu.Lock()
	s.armed, s.held, s.collected = true, make(chan struct{}), make(chan struct{})
	s.mu.Unlock()
}

func (s *flushHeld) Touch(ctx context.Context, acts []server.DeviceActivity) error {
	s.mu.Lock()
	armed := s.armed
	s.armed = false
	s.mu.Unlock()
	if armed {
		close(s.held)
		select {
		case <-s.collected:
		case <-time.After(2 * time.Second): // a collection that waits for this write never comes
		}
	}
	return s.Store.Touch(ctx, acts)
}

func (s *flushHeld) Update(ctx context.Context, fn func(server.Tx) error) error {
	err := s.Store.Update(ctx, fn)
	s.mu.Lock()
	if s.held != nil {
		select {
		case <-s.held:
			close(s.collected)
			s.held = nil
		default:
		}
	}
	s.mu.Unlock()
	return err
}

// Collection reads from the store the cursors the devices acknowledged,
// after writing what it holds in memory. Another write of that activity
// in flight (the periodic flush, an operator listing the devices) took
// the teammate's latest cursor out of memory before collection began and
// had not written it yet: collection found nothing to write, read the
// cursor before it, and kept the bases of the teammate's correction, which
// every device held (a CI run of TestMovedRowKeepsItsBasesForALaptopLeftOut,
// silent/compact, under load: Bases 0). A flush now waits for the one in
// flight, so the activity noted before collection began is in the store
// when it reads.
func TestCollectionCountsTheCursorAnotherFlushIsWriting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := servertest.OpenStore(ctx, t.TempDir(), "")
	require.NoError(t, err)
	fs := &flushHeld{Store: st}
	ts := servertest.Start(t, servertest.WithStore(fs), servertest.WithConfig(func(c *server.Config) {
		c.FlushInterval = time.Hour // only the flushes of this test
	}))
	m, tm := realAgent(t, ts, ts.TeamA)
	hh, err := m.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Tô Văn Ba"})
	require.NoError(t, err)
	realSync(t, m, ts, tm)
	realSync(t, m, ts, tm)
	ts.WaitSessionsEnded(t)
	_, err = ts.Admin.ListDevices(ctx) // the cursor below the correction is written
	require.NoError(t, err)
	tick()
	require.NoError(t, m.EditHousehold(ctx, hh, agent.Fields{"head_name": "Tô Văn Bá"}))
	realSync(t, m, ts, tm)
	realSync(t, m, ts, tm) // acknowledges the correction: in memory only
	ts.WaitSessionsEnded(t)

	fs.arm()
	listed := make(chan error, 1)
	go func() { _, err := ts.Admin.ListDevices(ctx); listed <- err }()
	<-fs.held
	gc, err := ts.Server.GC(ctx)
	require.NoError(t, err)
	require.NoError(t, <-listed)
	require.NotZero(t, gc.Bases, "collection counts the cursor the flush in flight holds: %+v", gc)
}
