package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// laptopClock is a laptop's wall clock against the real (fake) time: off
// by shift, drifting by drift a day since start, changed by hand by jump
// at jumpAt.
type laptopClock struct {
	real   *fakeClock
	start  time.Time
	shift  time.Duration
	drift  time.Duration // per day
	jumpAt time.Time
	jump   time.Duration
}

func (c *laptopClock) now() time.Time {
	t := c.real.now()
	w := t.Add(c.shift + time.Duration(float64(c.drift)*float64(t.Sub(c.start))/float64(24*time.Hour)))
	if !c.jumpAt.IsZero() && !t.Before(c.jumpAt) {
		w = w.Add(c.jump)
	}
	return w
}

// Issue 16's bound with real replicas and a real server: of two edits of
// one field, the one made more than ε later in real time wins on every
// replica, whatever the laptops' clocks, once their writes are restamped
// by the sync that pushes them. Each laptop records a household of its
// own before its first sync (a year-ahead clock stamps it a year ahead),
// then syncs, stays offline a while, and edits a shared household: laptop
// E first, laptop L 3 s later (ε = 2 s); then both sync, in both orders.
func TestLaterRealTimeEditWinsWithWrongClocks(t *testing.T) {
	t.Parallel()
	year := 365 * 24 * time.Hour
	cases := []struct {
		name    string
		early   laptopClock
		late    laptopClock
		offline time.Duration // between the first sync and the edits
	}{
		{name: "a year ahead, then a right clock", early: laptopClock{shift: year}, offline: 10 * 24 * time.Hour},
		{name: "a right clock, then a year ahead", late: laptopClock{shift: year}, offline: 10 * 24 * time.Hour},
		{name: "a year behind, then a year ahead", early: laptopClock{shift: -year}, late: laptopClock{shift: year}, offline: time.Hour},
		{name: "a year ahead, then a year behind", early: laptopClock{shift: year}, late: laptopClock{shift: -year}, offline: time.Hour},
		{name: "minutes ahead, then right", early: laptopClock{shift: 4 * time.Minute}, offline: time.Hour},
		{name: "right, then minutes behind", late: laptopClock{shift: -4 * time.Minute}, offline: time.Hour},
		{name: "a second off, then a second off the other way", early: laptopClock{shift: 900 * time.Millisecond}, late: laptopClock{shift: -900 * time.Millisecond}, offline: time.Minute},
		{name: "a second a day fast for 29 days offline, then right", early: laptopClock{drift: time.Second}, offline: 29 * 24 * time.Hour},
		{name: "right, then a second a day slow for 29 days offline", late: laptopClock{drift: -time.Second}, offline: 29 * 24 * time.Hour},
	}
	real := &fakeClock{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = real.now }))
	for _, tc := range cases {
		for _, earlyFirst := range []bool{true, false} {
			name := tc.name + ", the later one syncs first"
			if earlyFirst {
				name = tc.name + ", the earlier one syncs first"
			}
			t.Run(name, func(t *testing.T) {
				ctx := context.Background()
				laptop := func(c laptopClock) (*agent.Replica, string) {
					c.real, c.start = real, real.now()
					r := agenttest.New(t, agent.Options{Now: c.now})
					tok, _, err := r.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
					require.NoError(t, err)
					return r, tok
				}
				early, te := laptop(tc.early)
				late, tl := laptop(tc.late)
				right, tr := laptop(laptopClock{})
				hh, err := right.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Lê Văn Tám"})
				require.NoError(t, err)
				realSync(t, right, ts, tr)
				for _, r := range []*agent.Replica{early, late} {
					_, err := r.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ ghi trước lần đồng bộ đầu"})
					require.NoError(t, err)
				}
				realSync(t, early, ts, te)
				realSync(t, late, ts, tl)
				real.advance(tc.offline)
				require.NoError(t, early.EditHousehold(ctx, hh, agent.Fields{"phone": "0911111111"}))
				real.advance(3 * time.Second)
				require.NoError(t, late.EditHousehold(ctx, hh, agent.Fields{"phone": "0922222222"}))
				real.advance(time.Hour)
				if earlyFirst {
					realSync(t, early, ts, te)
					realSync(t, late, ts, tl)
				} else {
					realSync(t, late, ts, tl)
					realSync(t, early, ts, te)
				}
				realSync(t, early, ts, te)
				realSync(t, late, ts, tl)
				realSync(t, right, ts, tr)
				for who, r := range map[string]*agent.Replica{"earlier": early, "later": late, "third": right} {
					d, err := r.Show(ctx, "households", hh.String())
					require.NoError(t, err)
					require.Equal(t, "0922222222", d.Fields["phone"], "laptop %s: the later real-time edit wins", who)
				}
			})
		}
	}
}

// A watch session measures the clock again before it pushes a write made
// long after its Welcome: a clock that lost 20 s since would otherwise
// stamp the write 20 s early.
func TestWatchMeasuresTheClockAgainBeforePushing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	real, c, ts, r, tok, hh := laptopOnItsClock(t)

	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	synced := make(chan agent.SyncSummary, 16)
	go func() {
		done <- r.Watch(wctx, ts.URL, tok, agent.SyncOptions{PollInterval: 20 * time.Millisecond, IOTimeout: 5 * time.Second,
			OnSync: func(s agent.SyncSummary, err error) {
				if err == nil {
					synced <- s
				}
			}})
	}()
	<-synced // the session is open, its clock measured
	real.advance(time.Hour)
	c.shift = -20 * time.Second // the laptop's clock lost 20 s meanwhile
	require.NoError(t, r.EditHousehold(ctx, hh, agent.Fields{"phone": "0933333333"}))
	for s := range synced {
		if s.Pushed > 0 {
			break
		}
	}
	cancel()
	require.NoError(t, <-done)

	other, to := func() (*agent.Replica, string) {
		o := agenttest.New(t, agent.Options{Now: real.now})
		tok, _, err := o.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy khác")
		require.NoError(t, err)
		return o, tok
	}()
	realSync(t, other, ts, to)
	d, err := other.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	var h syncproto.HLC
	for _, f := range d.History {
		if f.Field == "phone" {
			h = syncproto.HLC(f.Versions[len(f.Versions)-1].HLC)
		}
	}
	require.InDelta(t, real.now().UnixMilli(), h.Millis(), float64(syncproto.ClockError.Milliseconds()),
		"stamped %s, made at %s", h, real.now().UTC())
}

// laptopOnItsClock starts a server on a fake clock (real) and enrolls a
// laptop of team A on a clock of its own (c: right until the test shifts,
// drifts or jumps it), which adds a household and syncs it.
func laptopOnItsClock(t *testing.T) (real *fakeClock, c *laptopClock, ts *servertest.TS, r *agent.Replica, tok string, hh syncproto.RowID) {
	t.Helper()
	ctx := context.Background()
	real = &fakeClock{t: time.Now()}
	ts = servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = real.now }))
	c = &laptopClock{real: real, start: real.now()}
	r = agenttest.New(t, agent.Options{Now: c.now})
	tok, _, err := r.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
	require.NoError(t, err)
	hh, err = r.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Lê Văn Tám"})
	require.NoError(t, err)
	realSync(t, r, ts, tok)
	return real, c, ts, r, tok, hh
}
