package agent_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A laptop whose clock ran days ahead pushes a registration date the
// server refuses (after tomorrow by its clock); the answer is lost, and
// the volunteer corrects the date before it comes. The correction names
// the refused date as its base. The laptop's folder had been copied; it
// finds itself a copy, the refusal arrives, and asking for a new replica
// id fails (offline). The volunteer discards the refused date. Renumbered
// under the new id, the correction still named the old id's refused write
// as its base, and the server follows refusals only through the pushing
// replica's own id: it judged the correction concurrent with the date it
// overwrote knowingly, and a teammate listed a conflict no one had
// (review 33, S1). The laptop now rebases what was written over a refused
// change when it drops that change.
func TestDiscardedRefusalBeforeAForkNoFalseConflict(t *testing.T) {
	ctx := context.Background()
	real := &fakeClock{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = real.now }))
	hamlet := ts.HamletsA[0]
	dir := t.TempDir()
	origPath, copyPath := filepath.Join(dir, "original.db"), filepath.Join(dir, "copy.db")
	ahead := &fakeClock{t: real.now()}
	openAt := func(path string, now func() time.Time) *agent.Replica {
		r, err := agent.OpenWith(ctx, path, agent.Options{Now: now})
		require.NoError(t, err)
		t.Cleanup(func() { r.Close() })
		return r
	}
	day := func(d int) string { return real.now().AddDate(0, 0, d).Format("2006-01-02") }

	orig := openAt(origPath, ahead.now)
	tok, _, err := orig.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy gốc")
	require.NoError(t, err)
	mate, tm := realAgent(t, ts, ts.TeamA)
	row, err := mate.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Lê Thị Hoa", "registered_on": day(-10)})
	require.NoError(t, err)
	realSync(t, mate, ts, tm)
	realSync(t, orig, ts, tok)

	// The laptop's clock jumps five days ahead; the date it writes is
	// three days ahead of the server's today. Its push goes, the Ack is cut.
	ahead.advance(5 * 24 * time.Hour)
	require.NoError(t, orig.EditHousehold(ctx, row, agent.Fields{"registered_on": day(3)}))
	err = syncCutAfter(orig, ts, tok, func(int) int { return 1 })
	require.Error(t, err, "the push's Ack was to be cut")
	require.NoError(t, orig.Close())
	restoreFile(t, origPath, copyPath)

	// The copy writes under the next number and syncs first.
	cp := openAt(copyPath, real.now)
	require.NoError(t, cp.EditHousehold(ctx, row, agent.Fields{"phone": "0912000111"}))
	realSync(t, cp, ts, tok)

	// The original corrects the date over the refused one it still shows,
	// finds it is a copy, and cannot get a new id.
	orig = openAt(origPath, ahead.now)
	require.NoError(t, orig.EditHousehold(ctx, row, agent.Fields{"registered_on": day(-2)}))
	px, _ := forkAnswerLost(t, ts, false)
	_, err = orig.Sync(ctx, px.URL, tok, agent.SyncOptions{IOTimeout: 5 * time.Second})
	require.Error(t, err, "the new replica id was not to be had")

	// The volunteer discards the refused date.
	rej, err := orig.Rejected(ctx)
	require.NoError(t, err)
	discarded := false
	for _, x := range rej {
		if x.Field == "registered_on" && x.Code == string(syncproto.CodeInvalidValue) {
			require.NoError(t, orig.DiscardRejected(ctx, x.ID))
			discarded = true
		}
	}
	require.True(t, discarded, "the future date is in the rejected list: %+v", rej)

	s, err := orig.Sync(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	require.NotNil(t, s.Fork)
	tok2, err := orig.PendingToken(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, tok2)
	require.NoError(t, orig.TokenSaved(ctx))
	realSync(t, orig, ts, tok2)
	realSync(t, mate, ts, tm)

	for name, r := range map[string]*agent.Replica{"the teammate": mate, "the laptop": orig} {
		cs, err := r.Conflicts(ctx, true)
		require.NoError(t, err)
		for _, c := range cs {
			require.NotEqual(t, "registered_on", c.Field, "%s lists a conflict on the date no one wrote against: %+v", name, c)
		}
	}
	d, err := mate.Show(ctx, "households", row.String())
	require.NoError(t, err)
	require.Equal(t, day(-2), d.Fields["registered_on"])
}

// The rebase above leaves alone a change the server may hold: the
// correction typed over the refused date is pushed and its Ack lost; the
// volunteer then discards the refused date. Pushed again with another
// base, the correction's digest would differ from the one the server
// stored, and the server would take the laptop for a copy of another
// (replica_forked): it is pushed as it was, and answered duplicate.
func TestDiscardedRefusalLeavesAPushedCorrectionAlone(t *testing.T) {
	ctx := context.Background()
	real := &fakeClock{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = real.now }))
	hamlet := ts.HamletsA[0]
	ahead := &fakeClock{t: real.now()}
	l, err := agent.OpenWith(ctx, filepath.Join(t.TempDir(), "l.db"), agent.Options{Now: ahead.now})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	tok, _, err := l.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy")
	require.NoError(t, err)
	day := func(d int) string { return real.now().AddDate(0, 0, d).Format("2006-01-02") }
	row, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Lê Thị Hoa", "registered_on": day(-10)})
	require.NoError(t, err)
	realSync(t, l, ts, tok)

	// A future date (refused), its Ack lost; a correction over it.
	ahead.advance(5 * 24 * time.Hour)
	require.NoError(t, l.EditHousehold(ctx, row, agent.Fields{"registered_on": day(3)}))
	require.Error(t, syncCutAfter(l, ts, tok, func(int) int { return 1 }))
	require.NoError(t, l.EditHousehold(ctx, row, agent.Fields{"registered_on": day(-2)}))
	// One change a push: the refusal comes back, the correction's Ack is cut.
	opts := agent.SyncOptions{IOTimeout: 5 * time.Second, BatchSize: 1, Window: 1}
	require.Error(t, syncCutAfterWith(l, ts, tok, func(n int) int {
		if n == 0 {
			return 2 // the Welcome and the first push's Ack
		}
		return 1
	}, opts))

	rej, err := l.Rejected(ctx)
	require.NoError(t, err)
	require.Len(t, rej, 1, "the future date is refused: %+v", rej)
	require.NoError(t, l.DiscardRejected(ctx, rej[0].ID))

	s := realSync(t, l, ts, tok)
	require.Nil(t, s.Fork, "the laptop took itself for a copy")
	realSync(t, l, ts, tok)
	d, err := l.Show(ctx, "households", row.String())
	require.NoError(t, err)
	require.Equal(t, day(-2), d.Fields["registered_on"])
	n, err := l.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}

// TestDiscardDuringAPushLeavesTheBatchAsSent (review 34c): a correction
// typed over a refused date waits in the outbox; a sync reads it to push
// just as the volunteer discards the refused date (the app and a
// background sync are two processes on one file). The discard rebases
// what was written over the refused change unless it is recorded as sent;
// read before that record and rebased before it, the correction went out
// with its old base while the outbox held the new one. Its Ack lost, the
// re-push's digest differed from what the server held, and the laptop
// took itself for a copy: a new device, a new id, a re-push.
func TestDiscardDuringAPushLeavesTheBatchAsSent(t *testing.T) {
	ctx := context.Background()
	real := &fakeClock{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = real.now }))
	hamlet := ts.HamletsA[0]
	ahead := &fakeClock{t: real.now()}
	path := filepath.Join(t.TempDir(), "l.db")
	l, err := agent.OpenWith(ctx, path, agent.Options{Now: ahead.now})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	tok, _, err := l.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy")
	require.NoError(t, err)
	day := func(d int) string { return real.now().AddDate(0, 0, d).Format("2006-01-02") }
	row, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Lê Thị Hoa", "registered_on": day(-10)})
	require.NoError(t, err)
	realSync(t, l, ts, tok)

	// A future date. The sync pushes it, and the volunteer's app (another
	// handle on the file) saves a correction over it before its refusal
	// comes; as the sync reads the correction to push, the app discards
	// the refused date; the correction's Ack is cut.
	ahead.advance(5 * 24 * time.Hour)
	require.NoError(t, l.EditHousehold(ctx, row, agent.Fields{"registered_on": day(3)}))
	app, err := agent.OpenWith(ctx, path, agent.Options{Now: ahead.now})
	require.NoError(t, err)
	t.Cleanup(func() { app.Close() })
	corrected, discarded := make(chan error, 1), make(chan error, 1)
	reads := 0
	undo := agent.AfterBatchRead(func() {
		reads++
		switch reads {
		case 1: // the future date: the app waits for the write lock
			go func() { corrected <- app.EditHousehold(ctx, row, agent.Fields{"registered_on": day(-2)}) }()
		case 2: // the correction
			rej, err := app.Rejected(ctx)
			if err != nil || len(rej) != 1 {
				discarded <- fmt.Errorf("the future date is refused: %+v (%v)", rej, err)
				return
			}
			done := make(chan struct{})
			go func() { discarded <- app.DiscardRejected(ctx, rej[0].ID); close(done) }()
			// Give the discard the time it needs when nothing holds it back.
			select {
			case <-done:
			case <-time.After(300 * time.Millisecond):
			}
		}
	})
	opts := agent.SyncOptions{IOTimeout: 5 * time.Second, BatchSize: 1, Window: 1}
	// Two frames (the Welcome, the refusal) and the cut; none on a retry.
	frames := func(n int) int { return 2 * (1 - min(n, 1)) }
	require.Error(t, syncCutAfterGated(l, ts, tok, frames, opts, func(i int) {
		if i == 1 { // the refusal waits for the correction
			require.NoError(t, <-corrected)
		}
	}))
	undo()
	require.NoError(t, <-discarded)

	s := realSync(t, l, ts, tok)
	require.Nil(t, s.Fork, "the laptop took itself for a copy")
	d, err := l.Show(ctx, "households", row.String())
	require.NoError(t, err)
	require.Equal(t, day(-2), d.Fields["registered_on"])
	n, err := l.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}

// TestDiscardedRefusalAfterASentCorrectionBeforeAForkNoFalseConflict
// (review 34c, the corner the agent's rebase leaves): the correction
// typed over a refused date counts as sent (sent_seq covers the whole
// counter once a session pushes anything new) though the server never
// took it, so discarding the refused date leaves its base alone; then the
// laptop finds itself a copy, and renumbered under the new id the
// correction still names the old id's refused date. The server follows a
// refusal through the pushing replica's forks (their parents' refusals),
// so it judges the correction written over what the date was written
// over, and no one lists a conflict.
func TestDiscardedRefusalAfterASentCorrectionBeforeAForkNoFalseConflict(t *testing.T) {
	ctx := context.Background()
	real := &fakeClock{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = real.now }))
	hamlet := ts.HamletsA[0]
	dir := t.TempDir()
	origPath, copyPath := filepath.Join(dir, "original.db"), filepath.Join(dir, "copy.db")
	ahead := &fakeClock{t: real.now()}
	openAt := func(path string, now func() time.Time) *agent.Replica {
		r, err := agent.OpenWith(ctx, path, agent.Options{Now: now})
		require.NoError(t, err)
		t.Cleanup(func() { r.Close() })
		return r
	}
	day := func(d int) string { return real.now().AddDate(0, 0, d).Format("2006-01-02") }

	orig := openAt(origPath, ahead.now)
	tok, _, err := orig.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy gốc")
	require.NoError(t, err)
	mate, tm := realAgent(t, ts, ts.TeamA)
	row, err := mate.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Lê Thị Hoa", "registered_on": day(-10)})
	require.NoError(t, err)
	other, err := mate.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Trần Văn Tư"})
	require.NoError(t, err)
	realSync(t, mate, ts, tm)
	realSync(t, orig, ts, tok)

	// A date three days ahead of the server's today, pushed; its Ack cut.
	ahead.advance(5 * 24 * time.Hour)
	require.NoError(t, orig.EditHousehold(ctx, row, agent.Fields{"registered_on": day(3)}))
	require.Error(t, syncCutAfter(orig, ts, tok, func(int) int { return 1 }), "the push's Ack was to be cut")
	require.NoError(t, orig.Close())
	restoreFile(t, origPath, copyPath)

	// The copy writes under the next number and syncs first.
	cp := openAt(copyPath, real.now)
	require.NoError(t, cp.EditHousehold(ctx, row, agent.Fields{"phone": "0912000111"}))
	realSync(t, cp, ts, tok)

	// The original writes another household under that number, then
	// corrects the date. One change a push: the refusal of the date comes
	// back; the next push (the other household) reaches the server, whose
	// answer (replica_forked) is cut; the correction is recorded as sent.
	orig = openAt(origPath, ahead.now)
	require.NoError(t, orig.EditHousehold(ctx, other, agent.Fields{"phone": "0912000222"}))
	require.NoError(t, orig.EditHousehold(ctx, row, agent.Fields{"registered_on": day(-2)}))
	opts := agent.SyncOptions{IOTimeout: 5 * time.Second, BatchSize: 1, Window: 1}
	frames := func(n int) int { return 2 * (1 - min(n, 1)) }
	require.Error(t, syncCutAfterWith(orig, ts, tok, frames, opts))

	// The volunteer discards the refused date.
	rej, err := orig.Rejected(ctx)
	require.NoError(t, err)
	discarded := false
	for _, x := range rej {
		if x.Field == "registered_on" && x.Code == string(syncproto.CodeInvalidValue) {
			require.NoError(t, orig.DiscardRejected(ctx, x.ID))
			discarded = true
		}
	}
	require.True(t, discarded, "the future date is in the rejected list: %+v", rej)

	s, err := orig.Sync(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	require.NotNil(t, s.Fork, "the laptop finds itself a copy")
	tok2, err := orig.PendingToken(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, tok2)
	require.NoError(t, orig.TokenSaved(ctx))
	realSync(t, orig, ts, tok2)
	realSync(t, mate, ts, tm)

	for name, r := range map[string]*agent.Replica{"the teammate": mate, "the laptop": orig} {
		cs, err := r.Conflicts(ctx, true)
		require.NoError(t, err)
		for _, c := range cs {
			require.NotEqual(t, "registered_on", c.Field, "%s lists a conflict on the date no one wrote against: %+v", name, c)
		}
	}
	d, err := mate.Show(ctx, "households", row.String())
	require.NoError(t, err)
	require.Equal(t, day(-2), d.Fields["registered_on"])
}
