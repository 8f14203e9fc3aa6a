package servertest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// RunNewRowRules is issue 17's found defects around a new row that
// reaches the server after its hamlet left the pusher's team, on each
// store: a new row stands or falls whole.
func RunNewRowRules(t *testing.T, start StartFunc) {
	t.Run("a required field written only after the hamlet left refuses the row", func(t *testing.T) {
		newRowAcrossAHamletLoss(t, start, false)
	})
	t.Run("a correction written after the hamlet left leaves the row whole", func(t *testing.T) {
		newRowAcrossAHamletLoss(t, start, true)
	})
}

// steppedClock is a clock a test moves by hand, so that a write made
// before a hamlet left a team and one made after are never the same
// millisecond.
type steppedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *steppedClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *steppedClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newRowAcrossAHamletLoss (make sim SEED=3106039 TRUNCATE=1 WIDE=1
// SILENT=1: "the server holds 1 live households lacking a required field
// (2e5c361e…): a partial row"): a device writes a new household's
// hamlet_code while its team holds the hamlet, the team loses the hamlet,
// and the device writes the household's head_name; both reach the server
// in one push. Judged change by change, the hamlet_code was taken (made
// while held) and the head_name refused (made after): the server held a
// household without its head's name, and sent it to every device of the
// hamlet. With named, the household's head_name was written before the
// loss too, and the later one is a correction: the row is whole without
// it, so it stands and only the correction is refused.
func newRowAcrossAHamletLoss(t *testing.T, start StartFunc, named bool) {
	ctx := context.Background()
	clk := &steppedClock{t: RulesNow}
	ts := start(t, func(c *server.Config) { c.Now = clk.now })
	dev := ts.NewDevice(t, ts.TeamA)
	w := NewWriter(dev.Replica, clk.now)
	hamlet := ts.HamletsA[1]

	hh := uuid.New()
	var cs []syncproto.Change
	cs = append(cs, w.Write("households", hh, schema.ScopeField, syncproto.String(hamlet), hamlet))
	if named {
		cs = append(cs, w.Write("households", hh, "head_name", syncproto.String("Đặng Văn Sáu"), hamlet))
	}
	clk.advance(time.Minute)
	_, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, hamlet)
	require.NoError(t, err)
	clk.advance(time.Minute)
	cs = append(cs, w.Write("households", hh, "head_name", syncproto.String("Đặng Văn Bảy"), hamlet))
	// The device was offline throughout: it connects only now.
	a := &ruleClient{t: t, c: ts.Connect(t, dev), w: w}
	res := a.push(cs...)

	// What the hamlet's devices receive: the team takes the hamlet back
	// and a new device of it pulls everything.
	_, err = ts.Admin.AddTeamHamlet(ctx, ts.TeamA, hamlet)
	require.NoError(t, err)
	rows := newRuleClient(t, ts, ts.TeamA, clk.now).rows(0)
	if !named {
		requireRefused(t, res, syncproto.CodeMovedOutOfScope, hamlet)
		require.NotContains(t, rows, hh, "the server holds part of a household: its head_name was refused, its hamlet_code taken")
		return
	}
	requireApplied(t, res[:2])
	requireRefused(t, res[2:], syncproto.CodeMovedOutOfScope, hamlet)
	require.Equal(t, syncproto.String("Đặng Văn Sáu"), rows[hh]["head_name"], "the household stands whole with the name written while the team held its hamlet")
}
