package agent_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Issue 9 part 1: leaving a scope is an event, not a delete. Real server
// on loopback, real agent replicas.

// rowsByHamlet counts the rows a replica holds per hamlet, and checks the
// materialised tables agree with row_state.
func rowsByHamlet(t *testing.T, r *agent.Replica) map[string]int {
	t.Helper()
	ctx := context.Background()
	rows, err := r.DB().QueryContext(ctx, `SELECT scope, count(*) FROM row_state GROUP BY scope`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var h string
		var n int
		require.NoError(t, rows.Scan(&h, &n))
		out[h] = n
	}
	require.NoError(t, rows.Err())
	var mat int
	require.NoError(t, r.DB().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM households) + (SELECT count(*) FROM tutoring_records)
		+ (SELECT count(*) FROM visits) + (SELECT count(*) FROM field_reports)`).Scan(&mat))
	total := 0
	for _, n := range out {
		total += n
	}
	require.Equal(t, total, mat, "materialised rows follow row_state")
	return out
}

// tick separates a write here from a scope change on the server by more
// than the clock measurement can move it: each sync measures the laptop's
// clock against the server's from the Hello/Welcome round trip, and an
// estimate off by more than syncproto.MinCorrection (20 ms; it can be off
// by half the round trip, tens of milliseconds on a loaded machine)
// restamps the writes made before it by that much. With a 3 ms tick, "the
// edit made while the hamlet was the team's" was once refused (load 7–8),
// most likely restamped past the change that way; 100 ms was not enough
// either for serverPast's tests at load ~30. A tick is restampMargin, the
// bound clockPast, laptopPast and serverPast wait out in one direction.
func tick() { time.Sleep(restampMargin) }

// (a) A household moves from team A's hamlet to team B's while A's laptop
// is offline with one edit made before the move and one after: the first
// is accepted, the second refused with a reason naming the move and kept
// in 'rejected'; the row leaves A's replica.
func TestScopeMoveWhileOffline(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, ta := realAgent(t, ts, ts.TeamA)
	b, tb := realAgent(t, ts, ts.TeamB)
	from, to := ts.HamletsA[0], ts.HamletsB[0]

	hh, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": from, "head_name": "Lê Văn Tâm"})
	require.NoError(t, err)
	tut, err := a.AddTutoring(ctx, hh, agent.Fields{"skill": "vneid_install", "outcome": "independent"})
	require.NoError(t, err)
	stay, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": from, "head_name": "Trần Thị Mai"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)

	// Offline: an edit before the move...
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"notes": "sửa trước khi chuyển"}))
	tick()
	// ...the move, by a device of team B, the receiving team (a raw
	// protocol client: the agent itself only writes hamlets it holds)...
	mover := ts.Connect(t, ts.NewDevice(t, ts.TeamB))
	w := servertest.NewWriter(mover.Replica, time.Now)
	ack, err := mover.Push(1, []syncproto.Change{w.Write("households", hh, schema.ScopeField, syncproto.String(to), from)})
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)
	tick()
	// ...and an edit after it.
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"address": "sửa sau khi chuyển"}))

	sum := realSync(t, a, ts, ta)
	require.Equal(t, 1, sum.Pushed, "the edit made before the move is accepted")
	require.Equal(t, 1, sum.Rejected, "the edit made after the move is refused")
	require.Equal(t, 2, sum.Evicted, "the household and its tutoring record leave")

	rej, err := a.Rejected(ctx)
	require.NoError(t, err)
	require.Len(t, rej, 1)
	require.Equal(t, "address", rej[0].Field)
	require.Equal(t, string(syncproto.CodeMovedOutOfScope), rej[0].Code)
	require.NotNil(t, rej[0].Why, "the reason as data")
	require.Equal(t, map[string]string{"household": hh.String(), "from": from, "to": to, "at": rej[0].Why.Params["at"]}, rej[0].Why.Params)
	// The hamlet the laptop covered by its name, the other team's by code.
	require.Contains(t, rej[0].Text("en"), "moved from hamlet Khóm 1 ("+from+") to hamlet "+to)
	require.Contains(t, rej[0].Text("vi"), "đã chuyển từ ấp/khóm Khóm 1 ("+from+") sang ấp/khóm "+to)
	require.NotContains(t, rej[0].Text("vi"), "moved", "one language, not two")
	require.NotEmpty(t, syncproto.Hint(syncproto.CodeMovedOutOfScope, "vi"))

	_, err = a.Show(ctx, "households", hh.String())
	require.Error(t, err, "the moved household left A's replica")
	_, err = a.Show(ctx, "tutoring_records", tut.String())
	require.Error(t, err, "and its tutoring record with it")
	_, err = a.Show(ctx, "households", stay.String())
	require.NoError(t, err)

	// Team B holds the household with the accepted edit and without the
	// refused one.
	realSync(t, b, ts, tb)
	d, err := b.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, "sửa trước khi chuyển", d.Fields["notes"])
	require.Nil(t, d.Fields["address"])
	require.Equal(t, to, d.Fields["hamlet_code"])

	// Syncing again changes nothing: the refusal stays, nothing is resent.
	sum = realSync(t, a, ts, ta)
	require.Zero(t, sum.Pushed+sum.Rejected)
	rej, err = a.Rejected(ctx)
	require.NoError(t, err)
	require.Len(t, rej, 1)
}

// (b) A team gains a hamlet: the replica receives exactly that hamlet's
// rows and nothing else travels.
func TestScopeTeamGainsHamlet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	gained := ts.OtherHamletA
	teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{gained})
	require.NoError(t, err)
	a, ta := realAgent(t, ts, ts.TeamA)
	c, tc := realAgent(t, ts, teamC.ID)
	b, tb := realAgent(t, ts, ts.TeamB)

	// Team A's own data, larger than what it will gain.
	for i := range 60 {
		_, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[i%2], "head_name": "Hộ A", "members_count": int64(i%9 + 1),
			"notes": fmt.Sprintf("ghi chú số %d", i)})
		require.NoError(t, err)
	}
	realSync(t, a, ts, ta)
	// The hamlet team A will gain: 3 households, one tutoring record.
	var cRows []syncproto.RowID
	for range 3 {
		id, err := c.AddHousehold(ctx, agent.Fields{"hamlet_code": gained, "head_name": "Hộ C"})
		require.NoError(t, err)
		cRows = append(cRows, id)
	}
	tut, err := c.AddTutoring(ctx, cRows[0], agent.Fields{"skill": "vneid_install", "outcome": "independent"})
	require.NoError(t, err)
	cSum := realSync(t, c, ts, tc)
	// Another team's data, which must not travel.
	bRow, err := b.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsB[0], "head_name": "Hộ B"})
	require.NoError(t, err)
	realSync(t, b, ts, tb)
	// A is up to date: its cursor is past all of it. What a sync that
	// moves nothing costs is the baseline of the byte counts below.
	idle := realSync(t, a, ts, ta)
	require.Zero(t, idle.Pulled)
	before := rowsByHamlet(t, a)
	require.Zero(t, before[gained])

	changed, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, gained)
	require.NoError(t, err)
	require.True(t, changed)

	sum := realSync(t, a, ts, ta)
	require.NotNil(t, sum.ScopeChange)
	require.Equal(t, []string{gained}, sum.ScopeChange.Gained)
	require.Empty(t, sum.ScopeChange.Lost)
	require.Equal(t, cSum.Pushed, sum.ScopeChange.Backfilled, "exactly the gained hamlet's log entries travel")
	require.Equal(t, cSum.Pushed, sum.Pulled, "and nothing else")
	after := rowsByHamlet(t, a)
	require.Equal(t, 4, after[gained], "the gained hamlet's rows arrive")
	delete(after, gained)
	require.Equal(t, before, after, "the rows it held are untouched")
	for _, id := range cRows {
		_, err := a.Show(ctx, "households", id.String())
		require.NoError(t, err)
	}
	_, err = a.Show(ctx, "tutoring_records", tut.String())
	require.NoError(t, err)
	_, err = a.Show(ctx, "households", bRow.String())
	require.Error(t, err, "another team's row never travels")
	held, backfilling, err := a.HeldScope(ctx)
	require.NoError(t, err)
	require.ElementsMatch(t, append([]string{gained}, ts.HamletsA...), held)
	require.Empty(t, backfilling)

	// The back-fill costs a fraction of a full clone of the new scope.
	clone, tclone := realAgent(t, ts, ts.TeamA)
	full := realSync(t, clone, ts, tclone)
	require.Equal(t, rowsByHamlet(t, clone), rowsByHamlet(t, a), "the back-filled replica equals a fresh clone")
	bf, cl := sum.BytesReceived-idle.BytesReceived, full.BytesReceived-idle.BytesReceived
	t.Logf("back-fill received %d bytes, a full clone %d (beyond an idle sync's %d)", bf, cl, idle.BytesReceived)
	require.Less(t, bf*3, cl, "4 rows of 64 travel, not all of them")

	// Nothing is pulled twice: the next sync is empty.
	again := realSync(t, a, ts, ta)
	require.Zero(t, again.Pulled)
	require.Nil(t, again.ScopeChange)
}

// (c) A team loses a hamlet: only its rows are dropped; an unsynced edit
// to one of them made before the change is pushed and accepted, one made
// after is refused and kept.
func TestScopeTeamLosesHamlet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	kept, lost := ts.HamletsA[0], ts.HamletsA[1]
	a, ta := realAgent(t, ts, ts.TeamA)
	keep, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": kept, "head_name": "Hộ giữ"})
	require.NoError(t, err)
	var gone []syncproto.RowID
	for range 3 {
		id, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": lost, "head_name": "Hộ chuyển tổ"})
		require.NoError(t, err)
		gone = append(gone, id)
	}
	_, err = a.AddTutoring(ctx, gone[0], agent.Fields{"skill": "vneid_install", "outcome": "independent"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	require.Equal(t, map[string]int{kept: 1, lost: 4}, rowsByHamlet(t, a))

	// Offline: an edit before the team loses the hamlet, one after.
	require.NoError(t, a.EditHousehold(ctx, gone[1], agent.Fields{"notes": "trước khi bỏ ấp"}))
	tick()
	changed, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, lost)
	require.NoError(t, err)
	require.True(t, changed)
	tick()
	require.NoError(t, a.EditHousehold(ctx, gone[2], agent.Fields{"notes": "sau khi bỏ ấp"}))

	sum := realSync(t, a, ts, ta)
	require.Equal(t, 1, sum.Pushed, "the edit made while the hamlet was the team's is accepted")
	require.Equal(t, 1, sum.Rejected)
	require.NotNil(t, sum.ScopeChange)
	require.Equal(t, []string{lost}, sum.ScopeChange.Lost)
	require.Equal(t, 4, sum.ScopeChange.Dropped)
	require.Equal(t, 1, sum.ScopeChange.KeptEdits, "the refused edit stays in the outbox")
	require.Zero(t, sum.ScopeChange.Backfilled)
	require.Equal(t, map[string]int{kept: 1}, rowsByHamlet(t, a), "only the lost hamlet's rows are dropped")
	_, err = a.Show(ctx, "households", keep.String())
	require.NoError(t, err)

	rej, err := a.Rejected(ctx)
	require.NoError(t, err)
	require.Len(t, rej, 1)
	require.Equal(t, gone[2].String(), rej[0].Row)
	require.Equal(t, string(syncproto.CodeMovedOutOfScope), rej[0].Code)
	require.Contains(t, rej[0].Text("en"), "Hamlet Khóm 2 ("+lost+") was removed from this device's team", "named as the volunteer knows it")

	// The server holds the accepted edit: a team now covering the hamlet sees it.
	teamD, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ nhận ấp 2", []string{lost})
	require.NoError(t, err)
	d, td := realAgent(t, ts, teamD.ID)
	realSync(t, d, ts, td)
	got, err := d.Show(ctx, "households", gone[1].String())
	require.NoError(t, err)
	require.Equal(t, "trước khi bỏ ấp", got.Fields["notes"])
	got, err = d.Show(ctx, "households", gone[2].String())
	require.NoError(t, err)
	require.Nil(t, got.Fields["notes"])

	// The team gets the hamlet back: the back-fill brings the rows again,
	// this replica's own writes included (it dropped them).
	changed, err = ts.Admin.AddTeamHamlet(ctx, ts.TeamA, lost)
	require.NoError(t, err)
	require.True(t, changed)
	sum = realSync(t, a, ts, ta)
	require.NotNil(t, sum.ScopeChange)
	require.Equal(t, []string{lost}, sum.ScopeChange.Gained)
	require.Equal(t, map[string]int{kept: 1, lost: 4}, rowsByHamlet(t, a))
	got, err = a.Show(ctx, "households", gone[0].String())
	require.NoError(t, err)
	require.Equal(t, "Hộ chuyển tổ", got.Fields["head_name"], "written by this replica alone, back again")
	got, err = a.Show(ctx, "households", gone[1].String())
	require.NoError(t, err)
	require.Equal(t, "trước khi bỏ ấp", got.Fields["notes"])
	rej, err = a.Rejected(ctx)
	require.NoError(t, err)
	require.Len(t, rej, 1, "the refusal stays until a person acts")
}

// A connected session of the team is ended with a retryable scope_changed
// when its hamlets change, here or in another process on the same data.
func TestScopeChangeEndsTeamSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// No periodic scope check here: the Admin call itself ends the session.
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.RevokeCheck = -1 }))
	ca := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	cb := ts.Connect(t, ts.NewDevice(t, ts.TeamB))

	_, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, ts.OtherHamletA)
	require.NoError(t, err)
	m, err := ca.Recv()
	require.NoError(t, err)
	em, ok := m.(*syncproto.ErrorMsg)
	require.True(t, ok, "got %T", m)
	require.Equal(t, syncproto.CodeScopeChanged, em.Code)
	require.True(t, em.Fatal)
	require.True(t, em.Code.Retryable())

	// Team B's session is untouched.
	_, err = cb.Pull(0, 0)
	require.NoError(t, err)

	// Another process (the operator's CLI) changes team B: a server
	// notices at its next scope check.
	ts = servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.RevokeCheck = 50 * time.Millisecond }))
	cb = ts.Connect(t, ts.NewDevice(t, ts.TeamB))
	other := openSecond(t, ts)
	_, err = other.Admin().RemoveTeamHamlet(ctx, ts.TeamB, ts.HamletsB[1])
	require.NoError(t, err)
	m, err = cb.Recv()
	require.NoError(t, err)
	em, ok = m.(*syncproto.ErrorMsg)
	require.True(t, ok, "got %T", m)
	require.Equal(t, syncproto.CodeScopeChanged, em.Code)

	// On reconnect the Welcome carries the new scope.
	c2 := ts.Connect(t, ts.NewDevice(t, ts.TeamB))
	require.Equal(t, []string{ts.HamletsB[0]}, c2.Welcome.Scope)
}

// Pull.Scopes must be a subset of the device's scope.
func TestScopePullScopesValidated(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	c := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	require.NoError(t, c.Send(&syncproto.Pull{Cursor: 0, Scopes: []string{ts.HamletsB[0]}}))
	m, err := c.RecvAnswer()
	require.Error(t, err)
	_ = m
	require.Equal(t, syncproto.CodeOutOfScope, syncproto.CodeOf(err))
	require.Contains(t, err.Error(), ts.HamletsB[0])
	// The session goes on; a valid back-fill pull is answered.
	require.NoError(t, c.Send(&syncproto.Pull{Cursor: 0, Scopes: []string{ts.HamletsA[1]}}))
	m, err = c.RecvAnswer()
	require.NoError(t, err)
	_, ok := m.(*syncproto.Changes)
	require.True(t, ok)
}

// openSecond opens another server on the test server's data, as the
// operator's CLI does while the server runs.
func openSecond(t *testing.T, ts *servertest.TS) *server.Server {
	t.Helper()
	s, err := servertest.Open(context.Background(), ts.DataDir, "", server.Config{Logger: servertest.Logger(), GCInterval: -1})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// A back-fill cut part-way resumes after the last row it stored: no chunk
// is fetched twice, and the replica's normal cursor is untouched by it.
func TestScopeBackfillResumes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	gained := ts.OtherHamletA
	teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{gained})
	require.NoError(t, err)
	a, ta := realAgent(t, ts, ts.TeamA)
	c, tc := realAgent(t, ts, teamC.ID)
	for i := range 40 {
		_, err := c.AddHousehold(ctx, agent.Fields{"hamlet_code": gained, "head_name": "Hộ C", "notes": fmt.Sprintf("số %d", i)})
		require.NoError(t, err)
	}
	cSum := realSync(t, c, ts, tc)
	realSync(t, a, ts, ta)
	_, err = ts.Admin.AddTeamHamlet(ctx, ts.TeamA, gained)
	require.NoError(t, err)

	// Cut after the third back-fill chunk (10 rows each) is stored.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := 0
	opts := agent.SyncOptions{IOTimeout: 10 * time.Second, PullLimit: 10, SnapshotLimit: 10, Progress: func(p agent.Progress) {
		if p.Phase == "backfill" {
			if pages++; pages == 3 {
				cancel()
			}
		}
	}}
	_, err = a.Sync(cctx, ts.URL, ta, opts)
	require.Error(t, err)
	_, backfilling, err := a.HeldScope(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{gained}, backfilling, "the back-fill is remembered")
	first := rowsByHamlet(t, a)[gained]
	require.Positive(t, first)
	require.Less(t, first, 40)

	opts.Progress = nil
	sum, err := a.Sync(ctx, ts.URL, ta, opts)
	require.NoError(t, err)
	require.NotNil(t, sum.ScopeChange)
	require.Empty(t, sum.ScopeChange.Gained, "already noted: not started again")
	require.Equal(t, cSum.Pushed-cSum.Pushed*30/40, sum.ScopeChange.Backfilled, "resumed after the three stored chunks (30 of 40 rows)")
	require.Equal(t, 40, rowsByHamlet(t, a)[gained])
	_, backfilling, err = a.HeldScope(ctx)
	require.NoError(t, err)
	require.Empty(t, backfilling)
}

// A back-fill replays only evictions from the hamlets it fills: a row
// that left the team's hamlet and came back (its eviction is old history
// of another hamlet) stays on the replica.
func TestScopeBackfillKeepsRowsThatCameBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	home, away := ts.HamletsA[0], ts.HamletsB[0]
	a, ta := realAgent(t, ts, ts.TeamA)
	hh, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": home, "head_name": "Hộ đi rồi về"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)

	// Taken to team B's hamlet by team B, and back by team A (each move
	// is made by the receiving team).
	mb := ts.Connect(t, ts.NewDevice(t, ts.TeamB))
	wb := servertest.NewWriter(mb.Replica, time.Now)
	ack, err := mb.Push(1, []syncproto.Change{wb.Write("households", hh, schema.ScopeField, syncproto.String(away), home)})
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)
	tick()
	ma := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	wa := servertest.NewWriter(ma.Replica, time.Now)
	ack, err = ma.Push(1, []syncproto.Change{wa.Write("households", hh, schema.ScopeField, syncproto.String(home), away)})
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)
	realSync(t, a, ts, ta)
	_, err = a.Show(ctx, "households", hh.String())
	require.NoError(t, err, "back home")

	_, err = ts.Admin.AddTeamHamlet(ctx, ts.TeamA, ts.OtherHamletA)
	require.NoError(t, err)
	sum := realSync(t, a, ts, ta)
	require.NotNil(t, sum.ScopeChange)
	require.Zero(t, sum.Evicted, "the back-fill of %s replays no eviction from %s", ts.OtherHamletA, home)
	_, err = a.Show(ctx, "households", hh.String())
	require.NoError(t, err, "the household that came back is still here")
}

// An agent in watch mode learns of a new hamlet while connected: its
// session ends with scope_changed, it reconnects and back-fills only the
// new hamlet, without a person.
func TestScopeWatchLearnsNewHamlet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	gained := ts.OtherHamletA
	teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{gained})
	require.NoError(t, err)
	c, tc := realAgent(t, ts, teamC.ID)
	row, err := c.AddHousehold(ctx, agent.Fields{"hamlet_code": gained, "head_name": "Hộ C"})
	require.NoError(t, err)
	cSum := realSync(t, c, ts, tc)

	a, ta := realAgent(t, ts, ts.TeamA)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	synced := make(chan agent.SyncSummary, 16)
	errs := make(chan error, 16)
	done := make(chan error, 1)
	go func() {
		done <- a.Watch(wctx, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second, MinBackoff: 10 * time.Millisecond,
			MaxBackoff: 50 * time.Millisecond, OnSync: func(s agent.SyncSummary, err error) {
				// Never block Watch: the test reads what it needs.
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
				select {
				case synced <- s:
				default:
				}
			}})
	}()
	<-synced // the first cycle: connected and up to date
	_, err = ts.Admin.AddTeamHamlet(ctx, ts.TeamA, gained)
	require.NoError(t, err)
	ended := <-errs
	var se *agent.ServerError
	require.ErrorAs(t, ended, &se)
	require.Equal(t, syncproto.CodeScopeChanged, se.Code)
	for s := range synced {
		if s.ScopeChange == nil {
			continue
		}
		require.Equal(t, []string{gained}, s.ScopeChange.Gained)
		require.Equal(t, cSum.Pushed, s.ScopeChange.Backfilled)
		break
	}
	_, err = a.Show(ctx, "households", row.String())
	require.NoError(t, err)
	cancel()
	require.NoError(t, <-done)
}

// With the log truncated (Config.TruncateLog), a back-fill of a gained
// hamlet from its log would miss the rows whose entries were cut: the
// server refuses it and the agent clones again by snapshot, so the gained
// hamlet's rows still arrive, and nothing of its own is lost.
func TestScopeGainAfterLogTruncation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.TruncateLog = true }))
	gained := ts.OtherHamletA
	teamC, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{gained})
	require.NoError(t, err)
	a, ta := realAgent(t, ts, ts.TeamA)
	c, tc := realAgent(t, ts, teamC.ID)
	var cRows []syncproto.RowID
	for range 3 {
		id, err := c.AddHousehold(ctx, agent.Fields{"hamlet_code": gained, "head_name": "Hộ C"})
		require.NoError(t, err)
		cRows = append(cRows, id)
	}
	realSync(t, c, ts, tc)
	realSync(t, c, ts, tc) // the server hears C stored the log
	own, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ A"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	realSync(t, a, ts, ta)
	st, err := ts.Server.GC(ctx)
	require.NoError(t, err)
	require.Positive(t, st.Truncated, "the gained hamlet's log was truncated")

	changed, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, gained)
	require.NoError(t, err)
	require.True(t, changed)
	pending, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[1], "head_name": "Hộ A ngoại tuyến"})
	require.NoError(t, err)
	var sum agent.SyncSummary
	for range 3 { // the refused back-fill ends a session; the next one clones
		if sum, err = a.Sync(ctx, ts.URL, ta, agent.SyncOptions{IOTimeout: 10 * time.Second}); err == nil {
			break
		}
	}
	require.NoError(t, err)
	for _, id := range append(cRows, own, pending) {
		_, err := a.Show(ctx, "households", id.String())
		require.NoError(t, err, "household %s after the gain", id)
	}
	n, err := a.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	held, backfilling, err := a.HeldScope(ctx)
	require.NoError(t, err)
	require.Contains(t, held, gained)
	require.Empty(t, backfilling)
	t.Logf("last session: %+v", sum)
}
