package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/linktest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestSlowLinkCloneOverSeveralSyncsSaysItsTotal: a first clone over a 3G
// link that drops every connection after some 20 KB down ends after a few
// syncs. The sync that ends it said only what it fetched itself ("Đã tải
// về máy 250 bản ghi của tổ: 250 hộ."), though the team's 2,000 households
// are all on the laptop: a volunteer takes it for the team's total. It
// says the download is done and what the laptop holds.
func TestSlowLinkCloneOverSeveralSyncsSaysItsTotal(t *testing.T) {
	t.Parallel() // it waits on the link more than it works
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	seedCommune(t, ts, 2000)
	link := linktest.New(t, ts.URL[len("http://"):], 4<<20, 0)
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", link.URL(), "--code", ts.EnrollCode(t, ts.TeamA))
	link.Cuts = func(int64) (int64, int64) { return 0, 20000 }

	var last result
	for i := 1; i <= 8; i++ {
		last = l.run("sync")
		t.Logf("sync %d: exit %d\n%s%s", i, last.code, last.stdout, last.stderr)
		if last.code == 0 {
			break
		}
	}
	require.Equal(t, 0, last.code)
	require.Len(t, l.households(), 2000)
	require.Contains(t, last.stdout, "2.000 hộ", "the laptop holds the team's 2,000 households")
	require.Contains(t, last.stdout, "Đã tải xong", "the download is done")

	// --lang en: the same in English.
	l2 := newLaptop(t, t.TempDir())
	l2.lang = "en"
	l2.must("enroll", "--server", link.URL(), "--code", ts.EnrollCode(t, ts.TeamA))
	for i := 1; i <= 8; i++ {
		last = l2.run("sync")
		t.Logf("en sync %d: exit %d\n%s%s", i, last.code, last.stdout, last.stderr)
		if last.code == 0 {
			break
		}
	}
	require.Equal(t, 0, last.code)
	require.Contains(t, last.stdout, "2,000 households")
	require.Contains(t, last.stdout, "Finished downloading")
}
