package servertest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/refusal"
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
	newRowThroughHamlets(t, start)
	householdMissing(t, start)
	t.Run("a tombstone of a refused household is not restored partial", func(t *testing.T) {
		restoredTombstone(t, start)
	})
	t.Run("a tombstone restored with its refused adding pushed again", func(t *testing.T) {
		restoredTombstoneAfterLostAck(t, start)
	})
	t.Run("a tombstone restored by a null", func(t *testing.T) {
		restoredTombstoneByNull(t, start)
	})
}

// restoredTombstone (make sim SEED=4694609 TRUNCATE=1 WIDE=1: "the server
// holds 1 live households lacking a required field (8d24f1ef…): a partial
// row"): a laptop whose clock runs a year ahead adds a household offline,
// then moves and deletes it. Its changes are not one run of the outbox, so
// they reach the server in two pushes: the first, the household's adding,
// is refused whole (a date in the future); the second, the move and the
// delete, makes a new row that a tombstone needs no more than its hamlet
// for. The volunteer restores the household: taken alone, the restore made
// live a household without a head's name, which every device of the
// hamlet received. A restore is taken only if the row is whole after it.
func restoredTombstone(t *testing.T, start StartFunc) {
	tw := tombstoneOfARefusedHousehold(t, start)
	for i, r := range tw.addingResults {
		require.Equal(t, syncproto.ResultRefused, r.Status, "household change %d: %+v", i, r)
	}
	res := tw.a.push(tw.w.Write("households", tw.hh, schema.DeletedField, syncproto.Bool(false), tw.other))
	tw.requireNotLivePartial(res)
	requireRefused(t, res, syncproto.CodeInvalidValue, refusal.RestoreIncomplete, "head_name")

	// The volunteer corrects the date and sends the household again: its
	// refused changes go in one push, the restore last (FixRejected).
	clk, w, hh, other := tw.clk, tw.w, tw.hh, tw.other
	clk.advance(time.Minute)
	res = tw.a.push(w.Write("households", hh, "head_name", syncproto.String("Lê Thị Hoa"), other),
		w.Write("households", hh, "registered_on", syncproto.String(schema.Today(clk.now())), other),
		w.Write("households", hh, schema.DeletedField, syncproto.Bool(false), other))
	requireApplied(t, res)
	rows := newRuleClient(t, tw.ts, tw.ts.TeamA, clk.now).rows(0)
	require.Equal(t, syncproto.String("Lê Thị Hoa"), rows[hh]["head_name"], "the household sent again whole is live: %v", rows[hh])
	require.Equal(t, syncproto.String(other), rows[hh][schema.ScopeField], "where the volunteer moved it")
}

// tombstoneWorld is what tombstoneOfARefusedHousehold leaves: a device
// whose adding of household hh (in its team's first hamlet, with a
// registration date a year ahead) was refused whole, and whose next push,
// the household's move to other and its delete, was taken as a tombstone.
type tombstoneWorld struct {
	t             *testing.T
	ts            *TS
	clk           *steppedClock
	w             *Writer
	a             *ruleClient
	hh            uuid.UUID
	other         string
	adding        []syncproto.Change // the first push
	moveDelete    []syncproto.Change // the second
	addingResults []syncproto.Result
}

func tombstoneOfARefusedHousehold(t *testing.T, start StartFunc) *tombstoneWorld {
	clk := &steppedClock{t: RulesNow}
	ts := start(t, func(c *server.Config) { c.Now = clk.now })
	dev := ts.NewDevice(t, ts.TeamA)
	w := NewWriter(dev.Replica, clk.now)
	home, other := ts.HamletsA[0], ts.HamletsA[1]
	future := clk.now().AddDate(1, 0, 0).Format(time.DateOnly)
	hh := uuid.New()
	tw := &tombstoneWorld{t: t, ts: ts, clk: clk, w: w, a: &ruleClient{t: t, c: ts.Connect(t, dev), w: w}, hh: hh, other: other}
	tw.adding = append(w.Household(hh, home, "Lê Thị Hoa"),
		w.Write("households", hh, "registered_on", syncproto.String(future), home))
	tw.addingResults = tw.a.push(tw.adding...)
	clk.advance(time.Minute)
	tw.moveDelete = []syncproto.Change{w.Write("households", hh, schema.ScopeField, syncproto.String(other), home),
		w.Write("households", hh, schema.DeletedField, syncproto.Bool(true), other)}
	tw.a.push(tw.moveDelete...)
	clk.advance(time.Minute)
	return tw
}

// requireNotLivePartial fails if a device of the team receives the
// household live without its head's name (res: the restore's results).
func (tw *tombstoneWorld) requireNotLivePartial(res []syncproto.Result) {
	tw.t.Helper()
	rows := newRuleClient(tw.t, tw.ts, tw.ts.TeamA, tw.clk.now).rows(0)
	if r, ok := rows[tw.hh]; ok && r[schema.DeletedField] != syncproto.Bool(true) {
		require.Contains(tw.t, r, "head_name", "the server made live a household without its head's name: results %+v, row %v", res, r)
	}
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
// it, so it stands and only the correction is refused. Without, a visit
// of the household written before the loss falls with it (review 35).
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
	visit := uuid.New()
	if named {
		cs = append(cs, w.Write("households", hh, "head_name", syncproto.String("Đặng Văn Sáu"), hamlet))
	} else {
		// A visit of it, written while the team held the hamlet too.
		cs = append(cs, visitOf(w, visit, hh, hamlet, clk.now())...)
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
		requireRefused(t, []syncproto.Result{res[0], res[len(res)-1]}, syncproto.CodeMovedOutOfScope, hamlet)
		for _, r := range res[1 : len(res)-1] {
			require.Equal(t, syncproto.ResultRefused, r.Status, "the visit: %+v", r)
			require.Equal(t, "household_missing", r.Why.Key, "the visit: %+v", r)
		}
		require.NotContains(t, rows, hh, "the server holds part of a household: its head_name was refused, its hamlet_code taken")
		require.NotContains(t, rows, visit, "the server holds a visit of a household it refused")
		return
	}
	requireApplied(t, res[:2])
	requireRefused(t, res[2:], syncproto.CodeMovedOutOfScope, hamlet)
	require.Equal(t, syncproto.String("Đặng Văn Sáu"), rows[hh]["head_name"], "the household stands whole with the name written while the team held its hamlet")
}

// newRowThroughHamlets is review 35's cases: a new household that passes
// through hamlets in one push is judged where apply has it at each change,
// and its new visit falls with it.
func newRowThroughHamlets(t *testing.T, start StartFunc) {
	// A household added whole in a hamlet the team holds, then moved
	// (offline) into a hamlet the team lost meanwhile: it stands in its
	// own hamlet and only the move is refused (42fad86 judged its
	// head_name by the last hamlet_code, lost, and refused it whole).
	t.Run("a household added in a held hamlet then moved to a lost one stands", func(t *testing.T) {
		ctx := context.Background()
		clk := &steppedClock{t: RulesNow}
		ts := start(t, func(c *server.Config) { c.Now = clk.now })
		dev := ts.NewDevice(t, ts.TeamA)
		w := NewWriter(dev.Replica, clk.now)
		home, lost := ts.HamletsA[0], ts.HamletsA[1]
		_, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, lost)
		require.NoError(t, err)
		clk.advance(time.Minute)
		hh := uuid.New()
		cs := w.Household(hh, home, "Lê Thị Hoa")
		clk.advance(time.Minute)
		cs = append(cs, w.Write("households", hh, schema.ScopeField, syncproto.String(lost), home))
		a := &ruleClient{t: t, c: ts.Connect(t, dev), w: w}
		res := a.push(cs...)
		rows := newRuleClient(t, ts, ts.TeamA, clk.now).rows(0)
		require.Contains(t, rows, hh, "a household added whole in the team's own hamlet is refused whole: %+v", res)
		requireApplied(t, res[:2])
		require.Equal(t, syncproto.ResultRefused, res[2].Status)
	})
	// The same with a visit of the household, added in its own hamlet
	// before the move: the server never holds the visit of a household it
	// refused (parentOutOfScope sees no stored household; judgeRows
	// judges households first).
	t.Run("a visit of a household refused whole is not held alone", func(t *testing.T) {
		ctx := context.Background()
		clk := &steppedClock{t: RulesNow}
		ts := start(t, func(c *server.Config) { c.Now = clk.now })
		dev := ts.NewDevice(t, ts.TeamA)
		w := NewWriter(dev.Replica, clk.now)
		home, lost := ts.HamletsA[0], ts.HamletsA[1]
		_, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, lost)
		require.NoError(t, err)
		clk.advance(time.Minute)
		hh, visit := uuid.New(), uuid.New()
		cs := w.Household(hh, home, "Lê Thị Hoa")
		cs = append(cs, visitOf(w, visit, hh, home, clk.now())...)
		clk.advance(time.Minute)
		cs = append(cs, w.Write("households", hh, schema.ScopeField, syncproto.String(lost), home))
		a := &ruleClient{t: t, c: ts.Connect(t, dev), w: w}
		res := a.push(cs...)
		rows := newRuleClient(t, ts, ts.TeamA, clk.now).rows(0)
		if _, ok := rows[visit]; ok {
			require.Contains(t, rows, hh, "the server holds a visit of a household it refused: %+v", res)
		}
	})
	// apply judges a new household's later changes by the hamlet its
	// taken hamlet_code moved it to (install). Here hamlet_code A0 (held
	// when written), A0 removed, head_name (refused: A0 lost), hamlet_code
	// A1 (held when written), A1 removed: both hamlet_codes taken and the
	// head_name refused left a household without its head's name.
	t.Run("no partial household through a lost hamlet, the last one lost too", func(t *testing.T) {
		partialThroughIntermediate(t, start, true)
	})
	// The same with the last hamlet still held.
	t.Run("no partial household through a lost hamlet, the last one held", func(t *testing.T) {
		partialThroughIntermediate(t, start, false)
	})
}

func partialThroughIntermediate(t *testing.T, start StartFunc, loseLast bool) {
	ctx := context.Background()
	clk := &steppedClock{t: RulesNow}
	ts := start(t, func(c *server.Config) { c.Now = clk.now })
	// The team keeps a third hamlet, so it never has an empty scope.
	_, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, ts.OtherHamletA)
	require.NoError(t, err)
	clk.advance(time.Minute)
	dev := ts.NewDevice(t, ts.TeamA)
	w := NewWriter(dev.Replica, clk.now)
	a0, a1 := ts.HamletsA[0], ts.HamletsA[1]

	hh := uuid.New()
	var cs []syncproto.Change
	cs = append(cs, w.Write("households", hh, schema.ScopeField, syncproto.String(a0), a0))
	clk.advance(time.Minute)
	_, err = ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, a0)
	require.NoError(t, err)
	clk.advance(time.Minute)
	cs = append(cs, w.Write("households", hh, "head_name", syncproto.String("Đặng Văn Bảy"), a0))
	clk.advance(time.Minute)
	cs = append(cs, w.Write("households", hh, schema.ScopeField, syncproto.String(a1), a0))
	clk.advance(time.Minute)
	if loseLast {
		_, err = ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, a1)
		require.NoError(t, err)
		clk.advance(time.Minute)
	}
	a := &ruleClient{t: t, c: ts.Connect(t, dev), w: w}
	res := a.push(cs...)
	if loseLast {
		_, err = ts.Admin.AddTeamHamlet(ctx, ts.TeamA, a1)
		require.NoError(t, err)
	}
	rows := newRuleClient(t, ts, ts.TeamA, clk.now).rows(0)
	if r, ok := rows[hh]; ok {
		require.Contains(t, r, "head_name", "the server holds a household without its head's name: results %+v, row %v", res, r)
	}
}

// householdMissing is review 35b's cases: a row naming a household the
// server refused is refused too, whether the household came in the same
// push, again in the same push after a lost Ack, or earlier.
func householdMissing(t *testing.T, start StartFunc) {
	// One push (a re-push after a lost Ack) carries a household the server
	// refused whole in the lost Ack's push (a date the server takes for
	// the future: the laptop's clock runs ahead) and a new visit of it
	// written since: the household's changes are answered from the store,
	// and the visit was taken alone.
	t.Run("a visit pushed with its household's refused changes again is not held alone", func(t *testing.T) {
		clk := &steppedClock{t: RulesNow}
		ts := start(t, func(c *server.Config) { c.Now = clk.now })
		dev := ts.NewDevice(t, ts.TeamA)
		w := NewWriter(dev.Replica, clk.now)
		home := ts.HamletsA[0]
		future := clk.now().AddDate(0, 0, 5).Format(time.DateOnly)
		hh, visit := uuid.New(), uuid.New()
		hcs := append(w.Household(hh, home, "Lê Thị Hoa"),
			w.Write("households", hh, "registered_on", syncproto.String(future), home))
		a := &ruleClient{t: t, c: ts.Connect(t, dev), w: w}
		res := a.push(hcs...)
		for i, r := range res {
			require.Equal(t, syncproto.ResultRefused, r.Status, "household change %d: %+v", i, r)
		}
		// The Ack was lost; meanwhile the volunteer added a visit.
		clk.advance(time.Minute)
		vcs := visitOf(w, visit, hh, home, clk.now())
		a2 := &ruleClient{t: t, c: ts.Connect(t, dev), w: w}
		res = a2.push(append(hcs, vcs...)...)
		rows := newRuleClient(t, ts, ts.TeamA, clk.now).rows(0)
		require.NotContains(t, rows, hh)
		require.NotContains(t, rows, visit, "the server holds a visit of a household it refused: %+v", res)
	})
	// The same without a lost Ack: the visit arrives in the next push (the
	// next batch of the same session, or a later sync: the laptop keeps
	// the household, its refusal in the rejected list, and the volunteer
	// goes on adding visits to it).
	t.Run("a visit in the push after its household's refusal is not held alone", func(t *testing.T) {
		clk := &steppedClock{t: RulesNow}
		ts := start(t, func(c *server.Config) { c.Now = clk.now })
		dev := ts.NewDevice(t, ts.TeamA)
		w := NewWriter(dev.Replica, clk.now)
		home := ts.HamletsA[0]
		future := clk.now().AddDate(0, 0, 5).Format(time.DateOnly)
		hh, visit := uuid.New(), uuid.New()
		a := &ruleClient{t: t, c: ts.Connect(t, dev), w: w}
		res := a.push(append(w.Household(hh, home, "Lê Thị Hoa"),
			w.Write("households", hh, "registered_on", syncproto.String(future), home))...)
		require.Equal(t, syncproto.ResultRefused, res[0].Status)
		clk.advance(time.Minute)
		res = a.push(visitOf(w, visit, hh, home, clk.now())...)
		rows := newRuleClient(t, ts, ts.TeamA, clk.now).rows(0)
		require.NotContains(t, rows, hh)
		require.NotContains(t, rows, visit, "the server holds a visit of a household it refused: %+v", res)
	})
	// The household and its visit in one push: the visit falls with it,
	// its reason naming the household, not the household's own.
	t.Run("a visit in the push its household is refused in", func(t *testing.T) {
		clk := &steppedClock{t: RulesNow}
		ts := start(t, func(c *server.Config) { c.Now = clk.now })
		dev := ts.NewDevice(t, ts.TeamA)
		w := NewWriter(dev.Replica, clk.now)
		home := ts.HamletsA[0]
		future := clk.now().AddDate(0, 0, 5).Format(time.DateOnly)
		hh, visit := uuid.New(), uuid.New()
		cs := append(w.Household(hh, home, "Lê Thị Hoa"),
			w.Write("households", hh, "registered_on", syncproto.String(future), home))
		cs = append(cs, visitOf(w, visit, hh, home, clk.now())...)
		a := &ruleClient{t: t, c: ts.Connect(t, dev), w: w}
		res := a.push(cs...)
		rows := newRuleClient(t, ts, ts.TeamA, clk.now).rows(0)
		require.NotContains(t, rows, visit, "%+v", res)
		for _, r := range res[3:] {
			require.Equal(t, syncproto.ResultRefused, r.Status)
			require.Equal(t, "household_missing", r.Why.Key, "%+v", r)
		}
	})
}

// visitOf is a new visit of household hh in hamlet, as an agent writes
// one: every field a visit cannot be without.
func visitOf(w *Writer, visit, hh uuid.UUID, hamlet string, now time.Time) []syncproto.Change {
	return []syncproto.Change{
		w.Write("visits", visit, schema.ScopeField, syncproto.String(hamlet), hamlet),
		w.Write("visits", visit, "household_id", syncproto.String(hh.String()), hamlet),
		w.Write("visits", visit, "volunteer_id", syncproto.String(uuid.NewString()), hamlet),
		w.Write("visits", visit, "visited_on", syncproto.String(schema.Today(now)), hamlet),
	}
}

// restoredTombstoneAfterLostAck (review 37 of 5613dbb): the pushes of
// restoredTombstone, but the Ack of the household's adding is lost, so the
// agent pushes it again, with the move and the delete, in the push that
// carries the restore. The re-pushed head_name is answered from the store
// (refused, as before); it must not count as bringing the field.
func restoredTombstoneAfterLostAck(t *testing.T, start StartFunc) {
	tw := tombstoneOfARefusedHousehold(t, start) // both Acks lost: two pushes in flight
	again := append(append(append([]syncproto.Change{}, tw.adding...), tw.moveDelete...),
		tw.w.Write("households", tw.hh, schema.DeletedField, syncproto.Bool(false), tw.other))
	tw.requireNotLivePartial(tw.a.push(again...))
}

// restoredTombstoneByNull (review 37 of 5613dbb): a _deleted of null restores
// a row as false does (install: del is Value.AsBool), and is a valid
// value (the tombstone is not required).
func restoredTombstoneByNull(t *testing.T, start StartFunc) {
	tw := tombstoneOfARefusedHousehold(t, start)
	tw.requireNotLivePartial(tw.a.push(tw.w.Write("households", tw.hh, schema.DeletedField, syncproto.Null(), tw.other)))
}
