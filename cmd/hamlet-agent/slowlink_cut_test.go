package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// seedCommune pushes n households (ten fields each) into the team's first
// hamlet from another device of team A.
func seedCommune(t *testing.T, ts *servertest.TS, n int) {
	t.Helper()
	dev := ts.NewDevice(t, ts.TeamA)
	c := ts.Connect(t, dev)
	cs := servertest.HouseholdChanges(servertest.NewWriter(dev.Replica, nil), ts.HamletsA[0], n*10)
	require.NoError(t, c.PushAll(cs, 2000, 4))
	c.Close()
}

func householdCSV(t *testing.T, n int) string {
	var b strings.Builder
	b.WriteString("Họ tên chủ hộ,Địa chỉ,Số ĐT,Số nhân khẩu\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "Nguyễn Thị Hộ %d,Số %d đường Lý Thường Kiệt khóm %d,09%08d,%d\n", i, i, i%7, i*37, 1+i%6)
	}
	file := filepath.Join(t.TempDir(), "ho.csv")
	require.NoError(t, os.WriteFile(file, []byte(b.String()), 0o600))
	return file
}

// TestSlowLinkFirstSyncCutKeepsOwnRecords: a volunteer enrolls, records a
// day's households in the hamlet before her first sync, and syncs over a
// rural 3G link that drops every connection after some 20 KB down. Her
// records reach the server, yet the first clone starts by dropping every
// synced row from the laptop and the cut clones leave her with none of
// them.
func TestSlowLinkFirstSyncCutKeepsOwnRecords(t *testing.T) {
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	// Another commune's team already works on this server.
	dev := ts.NewDevice(t, ts.TeamB)
	c := ts.Connect(t, dev)
	require.NoError(t, c.PushAll(servertest.HouseholdChanges(servertest.NewWriter(dev.Replica, nil), ts.HamletsB[0], 2000), 2000, 4))
	c.Close()

	link := newSlowLink(t, ts.URL[len("http://"):], 20<<10, 800*time.Millisecond)
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", link.URL(), "--code", ts.EnrollCode(t, ts.TeamA))
	l.must("import", householdCSV(t, 1500), "--hamlet", ts.HamletsA[0])
	require.Len(t, l.households(), 1500)

	link.Cuts = func(int64) (int64, int64) { return 0, 20000 }
	r := l.run("sync")
	t.Logf("sync: exit %d, %d B down, %d B up, %d connections\n%s%s", r.code, link.down.bytes.Load(), link.up.bytes.Load(), link.conns.Load(), r.stdout, r.stderr)
	require.Len(t, serverHouseholds(t, ts), 1500, "her records reached the server")
	require.Len(t, l.households(), 1500, "her records are still on her laptop")
}

// TestSlowLinkCutMidCloneMessage: a first sync over a 3G link that drops
// every connection after some 30 KB down reached the server each time and
// brought part of the team's records, yet it tells the volunteer it could
// not reach the server and to check the server's address.
func TestSlowLinkCutMidCloneMessage(t *testing.T) {
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	seedCommune(t, ts, 3000)
	link := newSlowLink(t, ts.URL[len("http://"):], 40<<10, 400*time.Millisecond)
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", link.URL(), "--code", ts.EnrollCode(t, ts.TeamA))
	link.Cuts = func(int64) (int64, int64) { return 0, 30000 }
	r := l.run("sync")
	t.Logf("sync: exit %d, %d B down, %d connections\n%s%s", r.code, link.down.bytes.Load(), link.conns.Load(), r.stdout, r.stderr)
	require.NotEqual(t, 0, r.code)
	require.NotContains(t, r.stderr, "Không kết nối được máy chủ", "it was reached: the connection dropped on the way")
	require.NotContains(t, r.stderr, "địa chỉ máy chủ", "the address is right")
}
