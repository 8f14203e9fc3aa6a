package agent_test

// Review 35c. The server tells two copies' writes under one (replica,
// seq) apart only by the digests it keeps, and collection keeps a
// replica's newest DigestWindow (20,000) only. CollectDigests(0) here
// stands for the other copy having pushed 20,000 changes more before this
// one syncs.

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

func collectEveryDigest(t *testing.T, ts *servertest.TS) {
	t.Helper()
	require.NoError(t, ts.Store.Update(context.Background(), func(tx server.Tx) error {
		_, err := tx.CollectDigests(0)
		return err
	}))
}

// A lagging copy pushes its unsent changes up to min(PushedSeq, its
// counter) under the old id (forkBound); a sequence whose digest was
// collected was answered from the other copy's record: duplicate, and the
// copy deleted its own write, which never reached the server. It is now
// answered replica_forked (the digest floor).
func TestLaggingCopyBeyondTheDigestWindowKeepsItsWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	hamlet := ts.HamletsA[0]
	dir := t.TempDir()
	origPath, copyPath := filepath.Join(dir, "original.db"), filepath.Join(dir, "copy.db")
	orig := openFile(t, origPath)
	tok, _, err := orig.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy gốc")
	require.NoError(t, err)
	mate, tm := realAgent(t, ts, ts.TeamA)
	row, err := mate.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Lê Thị Hoa"})
	require.NoError(t, err)
	realSync(t, mate, ts, tm)
	realSync(t, orig, ts, tok)
	require.NoError(t, orig.Close())
	restoreFile(t, origPath, copyPath)

	// The copy writes a phone offline; the original writes a name under
	// the same number and syncs; the other copy's digests age out.
	cp := openFile(t, copyPath)
	require.NoError(t, cp.EditHousehold(ctx, row, agent.Fields{"phone": "0912000111"}))
	orig = openFile(t, origPath)
	require.NoError(t, orig.EditHousehold(ctx, row, agent.Fields{"head_name": "Lê Thị Hoà"}))
	realSync(t, orig, ts, tok)
	collectEveryDigest(t, ts)

	s, err := cp.Sync(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	t.Logf("copy sync: fork=%+v pushed=%d rejected=%d", s.Fork, s.Pushed, s.Rejected)
	if s.Fork != nil {
		tok2, err := cp.PendingToken(ctx)
		require.NoError(t, err)
		require.NoError(t, cp.TokenSaved(ctx))
		realSync(t, cp, ts, tok2)
	}
	realSync(t, mate, ts, tm)
	d, err := mate.Show(ctx, "households", row.String())
	require.NoError(t, err)
	require.Equal(t, "0912000111", d.Fields["phone"], "the copy's phone never reached the server")
}

// Beyond the digest window the copy took the other copy's refusal for
// its own write and discarded it; its correction, recorded as sent and
// renumbered under the fork's id, still named (old id, seq), and the
// server, following refusals through fork parents (7479467), followed the
// OTHER copy's refusal there, whose base is the teammate's newer date: the
// correction overwrote that date silently though the copy never saw it.
// Answered replica_forked instead, the copy's write is renumbered, and the
// teammate lists the conflict.
func TestForkBeyondTheDigestWindowFollowsNoOtherCopysRefusal(t *testing.T) {
	t.Parallel()
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
	require.NoError(t, orig.Close())
	restoreFile(t, origPath, copyPath)
	cp := openAt(copyPath, real.now)

	// After the copy: the teammate moves the date to day -9; the original
	// pulls it and writes a future date over it (refused, stored under
	// (R, N+1) with base = the teammate's day -9), then a phone (N+2).
	mate2Date := day(-9)
	require.NoError(t, mate.EditHousehold(ctx, row, agent.Fields{"registered_on": mate2Date}))
	realSync(t, mate, ts, tm)
	orig = openAt(origPath, ahead.now)
	realSync(t, orig, ts, tok)
	ahead.advance(5 * 24 * time.Hour)
	require.NoError(t, orig.EditHousehold(ctx, row, agent.Fields{"registered_on": day(3)}))
	require.NoError(t, orig.EditHousehold(ctx, other, agent.Fields{"phone": "0912000222"}))
	realSync(t, orig, ts, tok)
	collectEveryDigest(t, ts)

	// The copy never saw day -9: it writes day -8 over day -10 (N+1), a
	// phone elsewhere (N+2), and corrects its date to day -7 (N+3, base
	// (R, N+1), its own write).
	require.NoError(t, cp.EditHousehold(ctx, row, agent.Fields{"registered_on": day(-8)}))
	require.NoError(t, cp.EditHousehold(ctx, other, agent.Fields{"head_name": "Trần Văn Tứ"}))
	require.NoError(t, cp.EditHousehold(ctx, row, agent.Fields{"registered_on": day(-7)}))

	// Lagging: it pushes up to PushedSeq (N+2) under R; N+1 is answered
	// with the original's refusal; asking for the new id fails.
	px, _ := forkAnswerLost(t, ts, false)
	_, err = cp.Sync(ctx, px.URL, tok, agent.SyncOptions{IOTimeout: 5 * time.Second})
	require.Error(t, err)
	rej, err := cp.Rejected(ctx)
	require.NoError(t, err)
	t.Logf("copy's rejected list: %+v", rej)
	for _, x := range rej {
		if x.Field == "registered_on" {
			if x.Code == string(syncproto.CodeInvalidValue) {
				t.Errorf("the copy lists the original's refusal (a future date) for its own day -8 (%v): %+v", x.Value, x)
			}
			require.NoError(t, cp.DiscardRejected(ctx, x.ID))
		}
	}

	s, err := cp.Sync(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	require.NotNil(t, s.Fork)
	tok2, err := cp.PendingToken(ctx)
	require.NoError(t, err)
	require.NoError(t, cp.TokenSaved(ctx))
	realSync(t, cp, ts, tok2)
	realSync(t, mate, ts, tm)
	cs, err := mate.Conflicts(ctx, true)
	require.NoError(t, err)
	found := false
	for _, c := range cs {
		if c.Field == "registered_on" {
			found = true
		}
	}
	d, err := mate.Show(ctx, "households", row.String())
	require.NoError(t, err)
	require.True(t, found, "the copy's day -7, written without seeing the teammate's %s, overwrote it silently (now %v)", mate2Date, d.Fields["registered_on"])
}
