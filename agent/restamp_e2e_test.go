package agent_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// handClock is a laptop's wall clock that its owner sets by hand: real
// time moved by shift, which the test changes while a session runs.
type handClock struct {
	real  *fakeClock
	shift atomic.Int64 // nanoseconds
}

func (c *handClock) now() time.Time { return c.real.now().Add(time.Duration(c.shift.Load())) }

// TestRestampedEditChangesPlaces (issue 17; simulation seeds 14953,
// 19778 and 20453 with truncation, 16455 in the silent world): a laptop
// in a watch session has its clock changed by hand, a volunteer edits a
// field, and before the session pushes the edit (it pulls the server's
// notice without pushing first) it pulls another laptop's edit of the
// same field, which the wrong stamp decides against. The next sync
// measures the clock and restamps the waiting edit (PROTOCOL §8.6), which
// then decides the other way: on the server and every other laptop. The
// laptop that made the edit must decide it the same way, not keep the
// value its wrong stamp chose: its pulls leave its own write out, and
// bring the other one nothing new.
func TestRestampedEditChangesPlaces(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// before is the laptop's clock until its watch session measured
		// it; during, after its owner changed it.
		before, during time.Duration
		// otherAt: the other laptop edits this long before the watch
		// session measures the clock (negative: after the laptop's edit).
		otherAt time.Duration
		want    string // the edit made later in real time
	}{
		// Set back 14 minutes: the laptop's edit, made later, was stamped
		// below the other's and lost; restamped, it wins (seeds 14953,
		// 19778, 20453).
		{name: "set back, the laptop's later edit wins", during: -14 * time.Minute, otherAt: time.Minute, want: "0922222222"},
		// Set right after running a minute slow (the session's offset
		// still adds that minute): the laptop's edit was stamped a minute
		// ahead and beat the other's, made 40 s after it; restamped, it
		// loses (seed 16455).
		{name: "set right, the other's later edit wins", before: -time.Minute, otherAt: -40 * time.Second, want: "0911111111"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			real := &fakeClock{t: time.Now()}
			ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = real.now }))
			enroll := func(now func() time.Time) (*agent.Replica, string) {
				r := agenttest.New(t, agent.Options{Now: now})
				tok, _, err := r.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
				require.NoError(t, err)
				return r, tok
			}
			other, to := enroll(real.now)
			lc := &handClock{real: real}
			lc.shift.Store(int64(tc.before))
			lap, tl := enroll(lc.now)

			hh, err := other.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Lê Văn Tám", "phone": "0900000000"})
			require.NoError(t, err)
			realSync(t, other, ts, to)
			realSync(t, lap, ts, tl)
			real.advance(time.Hour)
			otherEdits := func() {
				require.NoError(t, other.EditHousehold(ctx, hh, agent.Fields{"phone": "0911111111"}))
			}
			if tc.otherAt > 0 {
				otherEdits() // offline: pushed during the laptop's session
				real.advance(tc.otherAt)
			}

			// A watch session that never polls for local writes on its
			// own: the edit below waits while it pulls the other's.
			wctx, stop := context.WithCancel(ctx)
			synced := make(chan agent.SyncSummary, 16)
			done := make(chan error, 1)
			go func() {
				done <- lap.Watch(wctx, ts.URL, tl, agent.SyncOptions{IOTimeout: 10 * time.Second, PollInterval: time.Hour,
					OnSync: func(s agent.SyncSummary, err error) {
						if err == nil {
							synced <- s
						}
					}})
			}()
			<-synced // the session is open and has measured the clock
			lc.shift.Store(int64(tc.during))
			real.advance(time.Second)
			require.NoError(t, lap.EditHousehold(ctx, hh, agent.Fields{"phone": "0922222222"}))
			if tc.otherAt < 0 {
				real.advance(-tc.otherAt)
				otherEdits()
			}
			realSync(t, other, ts, to)
			for s := range synced {
				if s.Pulled > 0 {
					break
				}
			}
			stop()
			require.NoError(t, <-done)
			n, err := lap.Pending(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, n, "the laptop's edit waited while the other's was pulled")

			real.advance(20 * time.Second)
			realSync(t, lap, ts, tl) // measures the clock, restamps the edit, pushes it
			realSync(t, other, ts, to)
			fresh, tf := enroll(real.now)
			realSync(t, fresh, ts, tf)
			for _, x := range []struct {
				who string
				r   *agent.Replica
			}{{"a fresh clone", fresh}, {"the other laptop", other}, {"the laptop that made the edit", lap}} {
				d, err := x.r.Show(ctx, "households", hh.String())
				require.NoError(t, err)
				require.Equal(t, tc.want, d.Fields["phone"], "%s holds the edit made later", x.who)
			}
			cf, err := lap.Conflicts(ctx, false)
			require.NoError(t, err)
			require.Len(t, cf, 1, "the laptop lists the one conflict")
			require.Equal(t, tc.want, cf[0].Winner.Value, "its conflict names the value it holds as the winner")
		})
	}
}
