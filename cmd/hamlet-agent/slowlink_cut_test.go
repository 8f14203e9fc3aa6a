package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/linktest"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
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

// otherTeamHolds makes team C of commune A, working in hamlets, and pushes
// households[i] households (10 field versions each) into hamlets[i] from
// its device: the rows team A's laptop back-fills when its team gains
// those hamlets.
func otherTeamHolds(t *testing.T, ts *servertest.TS, hamlets []string, households ...int) {
	t.Helper()
	teamC, err := ts.Admin.CreateTeam(context.Background(), servertest.CommuneA, "Tổ CNTS Ấp 3", hamlets)
	require.NoError(t, err)
	dev := ts.NewDevice(t, teamC.ID)
	c := ts.Connect(t, dev)
	w := servertest.NewWriter(dev.Replica, nil)
	var cs []syncproto.Change
	for i, h := range hamlets {
		cs = append(cs, servertest.HouseholdChanges(w, h, households[i]*10)...)
	}
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
	t.Parallel() // it waits on the link more than it works
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	// Another commune's team already works on this server.
	dev := ts.NewDevice(t, ts.TeamB)
	c := ts.Connect(t, dev)
	require.NoError(t, c.PushAll(servertest.HouseholdChanges(servertest.NewWriter(dev.Replica, nil), ts.HamletsB[0], 2000), 2000, 4))
	c.Close()

	link := linktest.New(t, ts.URL[len("http://"):], 200<<10, 50*time.Millisecond)
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", link.URL(), "--code", ts.EnrollCode(t, ts.TeamA))
	l.must("import", householdCSV(t, 1500), "--hamlet", ts.HamletsA[0])
	require.Len(t, l.households(), 1500)

	link.Cuts = func(int64) (int64, int64) { return 0, 20000 }
	r := l.run("sync")
	t.Logf("sync: exit %d, %d B down, %d B up, %d connections\n%s%s", r.code, link.Down(), link.Up(), link.Conns(), r.stdout, r.stderr)
	require.Len(t, serverHouseholds(t, ts), 1500, "her records reached the server")
	require.Len(t, l.households(), 1500, "her records are still on her laptop")
}

// TestSlowLinkCutMidCloneMessage: a first sync over a 3G link that drops
// every connection after some 30 KB down reached the server each time and
// brought part of the team's records, yet it tells the volunteer it could
// not reach the server and to check the server's address.
func TestSlowLinkCutMidCloneMessage(t *testing.T) {
	t.Parallel() // it waits on the link more than it works
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	seedCommune(t, ts, 3000)
	link := linktest.New(t, ts.URL[len("http://"):], 200<<10, 50*time.Millisecond)
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", link.URL(), "--code", ts.EnrollCode(t, ts.TeamA))
	link.Cuts = func(int64) (int64, int64) { return 0, 30000 }
	r := l.run("sync")
	t.Logf("sync: exit %d, %d B down, %d connections\n%s%s", r.code, link.Down(), link.Conns(), r.stdout, r.stderr)
	require.Equal(t, exitError, r.code)
	require.NotContains(t, r.stderr, "Không kết nối được máy chủ", "it was reached: the connection dropped on the way")
	require.NotContains(t, r.stderr, "địa chỉ máy chủ", "the address is right")
	require.Contains(t, r.stderr, "bị ngắt giữa chừng khi đồng bộ (sóng yếu?)")
	require.Contains(t, r.stderr, "được giữ lại")
	require.Contains(t, r.stderr, "hãy đồng bộ lại, tốt nhất ở chỗ sóng tốt hơn")

	// --json: the same message as the error's, exit 1 as for every error;
	// --lang en: in English.
	r = l.run("sync", "--json", "--lang", "en")
	require.Equal(t, exitError, r.code, r.stderr)
	var out struct {
		Error struct{ Message, Detail string }
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	require.Contains(t, out.Error.Message, "The connection to the server dropped in the middle of the sync (weak signal?)")
	require.Contains(t, out.Error.Message, "sync again, best where the signal is better")
	require.NotContains(t, out.Error.Message, "server address")
	require.NotEmpty(t, out.Error.Detail)
}

// TestSlowLinkDropAfterPushSaysWhatWasSent: the volunteer's records went
// up and were acknowledged before the connection dropped in the clone:
// the message says the server has them, and the dial failure (no server
// there) is still told as one.
func TestSlowLinkDropAfterPushSaysWhatWasSent(t *testing.T) {
	t.Parallel() // it waits on the link more than it works
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	seedCommune(t, ts, 3000)
	link := linktest.New(t, ts.URL[len("http://"):], 200<<10, 50*time.Millisecond)
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", link.URL(), "--code", ts.EnrollCode(t, ts.TeamA))
	l.must("import", householdCSV(t, 20), "--hamlet", ts.HamletsA[0])
	link.Cuts = func(int64) (int64, int64) { return 0, 30000 }
	r := l.run("sync")
	t.Logf("sync: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	require.Equal(t, exitError, r.code)
	require.Len(t, serverHouseholds(t, ts), 3020, "her 20 households reached the server")
	require.Regexp(t, `Trước khi ngắt, máy chủ đã nhận [0-9.]+ thay đổi từ máy này`, r.stderr)
	require.Contains(t, r.stderr, "hãy đồng bộ lại")

	// No server at that address: the dial failure's message, as before.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	gone := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	r = l.run("sync", "--server", gone)
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, "Không kết nối được máy chủ "+gone)
	require.Contains(t, r.stderr, "địa chỉ máy chủ")
	require.NotContains(t, r.stderr, "ngắt giữa chừng")
}

// TestSlowLinkDropInTheApp: the app's sync over a link that drops every
// connection mid-clone says the connection dropped on the way, on its
// bar, its sync page and its error, and that it syncs again by itself.
func TestSlowLinkDropInTheApp(t *testing.T) {
	t.Parallel() // it waits on the link more than it works
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	seedCommune(t, ts, 3000)
	link := linktest.New(t, ts.URL[len("http://"):], 200<<10, 50*time.Millisecond)
	dir := t.TempDir()
	l := newLaptop(t, dir)
	l.must("enroll", "--server", link.URL(), "--code", ts.EnrollCode(t, ts.TeamA))
	link.Cuts = func(int64) (int64, int64) { return 0, 30000 }

	ctx, cancel := context.WithCancel(context.Background())
	cmd := l.command(ctx, "app", "--no-browser")
	var out, errOut syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	var ai appInfo
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(filepath.Join(dir, appFile))
		return err == nil && json.Unmarshal(b, &ai) == nil && ai.URL != ""
	}, 60*time.Second, 20*time.Millisecond, "stdout %s stderr %s", &out, &errOut)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(ai.URL)
	require.NoError(t, err)
	resp.Body.Close()
	base := strings.Split(ai.URL, "?")[0]
	base = base[:strings.Index(base[len("http://"):], "/")+len("http://")]

	var st struct{ Class, Text, Detail, Error string }
	require.Eventually(t, func() bool {
		resp, err := c.Get(base + "/sync/status")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		return json.NewDecoder(resp.Body).Decode(&st) == nil && st.Error != ""
	}, 30*time.Second, 100*time.Millisecond)
	t.Logf("%+v", st)
	require.Equal(t, "offline", st.Class)
	require.Contains(t, st.Text, "Mất kết nối giữa chừng")
	require.Contains(t, st.Detail, "bị ngắt giữa chừng")
	require.Contains(t, st.Error, "bị ngắt giữa chừng khi đồng bộ (sóng yếu?)")
	require.Contains(t, st.Error, "Hamlet sẽ tự đồng bộ lại")
	for _, s := range []string{st.Text, st.Detail, st.Error} {
		require.NotContains(t, s, "Chưa kết nối được máy chủ")
		require.NotContains(t, s, "Không kết nối được máy chủ")
		require.NotContains(t, s, "địa chỉ máy chủ")
	}
	resp, err = c.Get(base + "/sync")
	require.NoError(t, err)
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Contains(t, string(page), "ngắt giữa chừng")
}
