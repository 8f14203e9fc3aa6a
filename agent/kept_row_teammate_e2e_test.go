package agent_test

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A first clone cut after its first chunk; the volunteer, whose clock runs
// days ahead, writes a registration date of the stored household that the
// server refuses (after tomorrow by its clock). A teammate corrects the
// household's phone twice; the team gains a hamlet. The next session
// pushes (refused), then starts the clone again: the household stays (a
// refused change), holding the phone the first attempt stored. The new
// snapshot brings the phone written twice over it, based on a version this
// laptop never saw: merged, it counted as concurrent with the stored one,
// a conflict no one had.
func TestRestartedCloneKeptRefusedRowNoConflictOnTeammateField(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	w, tw := realAgent(t, ts, ts.TeamA)
	h := ts.HamletsA[0]
	day := func(d int) string { return time.Now().AddDate(0, 0, d).Format("2006-01-02") }
	x, err := w.AddHousehold(ctx, agent.Fields{"hamlet_code": h, "head_name": "Lê Văn Tám", "phone": "0911000001", "registered_on": day(-10)})
	require.NoError(t, err)
	y, err := w.AddHousehold(ctx, agent.Fields{"hamlet_code": h, "head_name": "Phan Thị Mười", "phone": "0911000002", "registered_on": day(-10)})
	require.NoError(t, err)
	realSync(t, w, ts, tw)
	first := x // the snapshot sends rows in id order
	if y.String() < x.String() {
		first = y
	}

	var skew atomic.Int64 // the laptop's clock, once it jumps ahead
	ahead := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	l, err := agent.OpenWith(ctx, filepath.Join(t.TempDir(), "l.db"), agent.Options{Now: ahead})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	tl, _, err := l.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy")
	require.NoError(t, err)

	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	proxy, _ := faultProxy(t, ts.URL[len("http://"):], func(c, s net.Conn, fired func()) {
		go func() { io.Copy(s, c); s.Close() }()
		if forwardMessages(c, s, 2) == nil { // the Welcome and the first chunk
			fired()
		}
		<-cctx.Done()
	})
	_, err = l.Sync(cctx, proxy, tl, agent.SyncOptions{IOTimeout: 10 * time.Second, SnapshotLimit: 1, Progress: func(p agent.Progress) {
		if p.Phase == "clone" && p.Done > 0 {
			cancel()
		}
	}})
	require.Error(t, err)
	require.True(t, holdsRow(t, l, first), "the first chunk was stored")
	servertest.WaitSessions(t, ts, 0)

	// The laptop's clock jumps five days ahead; the volunteer writes a
	// date three days ahead of the server's today, which it refuses.
	skew.Store(int64(5 * 24 * time.Hour))
	require.NoError(t, l.EditHousehold(ctx, first, agent.Fields{"registered_on": day(3)}))

	// The phone is corrected twice, and the team gains a hamlet.
	require.NoError(t, w.EditHousehold(ctx, first, agent.Fields{"phone": "0911000003"}))
	require.NoError(t, w.EditHousehold(ctx, first, agent.Fields{"phone": "0911000004"}))
	realSync(t, w, ts, tw)
	_, err = ts.Admin.AddTeamHamlet(ctx, ts.TeamA, ts.OtherHamletA)
	require.NoError(t, err)

	sum := realSync(t, l, ts, tl)
	t.Logf("second session: %+v", sum)
	rej, err := l.Rejected(ctx)
	require.NoError(t, err)
	require.Len(t, rej, 1, "the future date is refused: %+v", rej)
	require.Equal(t, string(syncproto.CodeInvalidValue), rej[0].Code)
	realSync(t, l, ts, tl)

	d, err := l.Show(ctx, "households", first.String())
	require.NoError(t, err)
	require.Equal(t, "0911000004", d.Fields["phone"])
	cs, err := l.Conflicts(ctx, true)
	require.NoError(t, err)
	for _, c := range cs {
		t.Logf("conflict: %+v", c)
		require.NotEqual(t, "phone", c.Field, "the laptop lists a conflict on the phone no one wrote against: %+v", c)
	}
}
