package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestSyncSummaryCountsAsTheCLIWrites: a laptop's first sync brings
// a hamlet of 1,500 households (cloned as 1,500 rows). The sync line and
// the clone's line must write their counts the same way, as the CLI
// writes numbers (i18n.Int): 1.500 in Vietnamese, 1,500 in English,
// not "nhận 1500" above "Đã tải về máy 1.500 bản ghi".
func TestSyncSummaryCountsAsTheCLIWrites(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	dev := ts.NewDevice(t, ts.TeamA)
	c := ts.Connect(t, dev)
	require.NoError(t, c.PushAll(servertest.HouseholdChanges(servertest.NewWriter(dev.Replica, nil), ts.HamletsA[0], 1500*10), 1500, 4))
	c.Close()
	for _, tc := range []struct{ lang, want, bad string }{{"vi", "nhận 1.500", "nhận 1500"}, {"en", "received 1,500", "received 1500"}} {
		l := newLaptop(t, t.TempDir())
		l.lang = tc.lang
		l.enroll(ts)
		r := l.must("sync")
		t.Logf("%s:\n%s", tc.lang, r.stdout)
		assert.NotContains(t, r.stdout, tc.bad)
		assert.Contains(t, r.stdout, tc.want)
	}
}
