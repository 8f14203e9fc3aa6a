package main

// Issue 14's faults, driven through the real hamlet-agent binary
// (laptop_test.go) against a real server on loopback.

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// serverHouseholds is every household id the server holds, read by a
// device of team A through the protocol (not through the agent under test).
func serverHouseholds(t testing.TB, ts *servertest.TS) map[string]bool {
	t.Helper()
	c := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	defer c.Close()
	changes, _, _, err := c.PullAll(0)
	require.NoError(t, err)
	out := map[string]bool{}
	for _, ch := range changes {
		if ch.Table == "households" && ch.Field == "head_name" {
			out[ch.Row.String()] = true
		}
	}
	return out
}

// requireOnServer checks every id is on the server.
func requireOnServer(t testing.TB, ts *servertest.TS, ids []string) {
	t.Helper()
	have := serverHouseholds(t, ts)
	var missing []string
	for _, id := range ids {
		if !have[id] {
			missing = append(missing, id)
		}
	}
	require.Empty(t, missing, "saved records missing on the server")
}

// countErrorPrefix counts "Error:"/"Lỗi:" prefixes in a message.
func countErrorPrefix(s string) int {
	return strings.Count(s, "Error:") + strings.Count(s, "Lỗi:")
}

// Defect 5: with `status` (and `household list`) running in a loop, every
// `household add` must wait for the other process instead of failing with
// "database is locked", and every record it reported saved is there.
func TestFaultTwoCommandsAtOnce(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	l := newLaptop(t, t.TempDir())
	l.enroll(ts)
	l.must("sync")

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var reads, readFails int
	var readErr string
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			read := []string{"status"}
			if i%2 == 1 {
				read = []string{"household", "list"}
			}
			cmd := l.command(context.Background(), read...)
			var errb bytes.Buffer
			cmd.Stderr = &errb
			if err := cmd.Run(); err != nil {
				readFails++
				readErr = errb.String()
			}
			reads++
		}
	}()
	var ids []string
	var failures []string
	for i := 0; i < 100; i++ {
		id, r := l.add(ts.HamletsA[0], fmt.Sprintf("Hộ đồng thời %d", i))
		if id == "" {
			failures = append(failures, strings.TrimSpace(r.stderr+r.stdout))
			continue
		}
		ids = append(ids, id)
	}
	cancel()
	wg.Wait()
	t.Logf("100 adds against %d status and list runs", reads)
	require.Empty(t, failures, "%d of 100 household add failed while status and list ran", len(failures))
	require.Zero(t, readFails, "status or list failed while household add ran: %s", readErr)
	have := l.households()
	for _, id := range ids {
		require.True(t, have[id], "saved record %s is on the laptop", id)
	}
	l.must("sync")
	requireOnServer(t, ts, ids)
}

// seedServer stores n households on the server as another laptop of team
// A did, so a laptop's replica spans many pages.
func seedServer(t testing.TB, ts *servertest.TS, n int) {
	t.Helper()
	d := ts.NewDevice(t, ts.TeamA)
	c := ts.Connect(t, d)
	defer c.Close()
	w := servertest.NewWriter(d.Replica, nil)
	var cs []syncproto.Change
	for i := 0; i < n; i++ {
		h := ts.HamletsA[i%len(ts.HamletsA)]
		row := uuid.New()
		for _, f := range []struct {
			name string
			v    syncproto.Value
		}{
			{"hamlet_code", syncproto.String(h)},
			{"head_name", syncproto.String(fmt.Sprintf("Nguyễn Văn Hộ %d", i))},
			{"address", syncproto.String(fmt.Sprintf("Số %d, tổ %d, ấp Tân Thành", i, i%20))},
			{"phone", syncproto.String(fmt.Sprintf("09%08d", i))},
			{"active", syncproto.Bool(true)},
			{"registered_on", syncproto.String("2025-07-15")},
		} {
			cs = append(cs, w.Write("households", row, f.name, f.v, h))
		}
	}
	for i, b := 0, uint64(1); i < len(cs); i, b = i+2000, b+1 {
		a, err := c.Push(b, cs[i:min(i+2000, len(cs))])
		require.NoError(t, err)
		for _, r := range a.Results {
			require.NotEqual(t, syncproto.ResultRefused, r.Status, "%+v", r)
		}
	}
}

// damage overwrites size bytes of file at off with bytes no SQLite page
// holds, as a failing disk or a crashed copy leaves them.
func damage(t testing.TB, file string, off int64, size int) {
	t.Helper()
	f, err := os.OpenFile(file, os.O_WRONLY, 0)
	require.NoError(t, err)
	junk := bytes.Repeat([]byte{0xA5, 0x5A, 0xFF, 0x13}, (size+3)/4)[:size]
	_, err = f.WriteAt(junk, off)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// pagesOf finds the pages of a table or index in a replica file (read
// only, through SQLite's dbstat table), in page order.
func pagesOf(t testing.TB, file, name, pagetype string) []int64 {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+file+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.Query(`SELECT pageno FROM dbstat WHERE name = ? AND pagetype = ? ORDER BY pageno`, name, pagetype)
	require.NoError(t, err)
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var p int64
		require.NoError(t, rows.Scan(&p))
		out = append(out, p)
	}
	require.NoError(t, rows.Err())
	return out
}

// Defect 4: a replica damaged mid-file (16 bytes, or a whole page) must
// not be written to or pushed from. The sync's check finds it and says to
// run `hamlet-agent repair`; from then on `household add` refuses with the
// same advice; `repair` keeps the damaged file, salvages what it can read
// and every pending change, fetches the rest from the server, and the
// records added before the damage reach the server.
//
// Every case damages a laptop of the same history: enrolled, synced with
// the team's 1,500 households, five households recorded and not sent. The
// history is built once, by the binary against a real server, and frozen;
// each case thaws a copy of its own (repair_fixture_test.go), so what one
// case pushes or repairs reaches no other. Each case built it again
// through the binary, a process per household and a clone, a quarter of
// the test's CPU.
func TestFaultDamagedReplica(t *testing.T) {
	t.Parallel()
	built := servertest.Start(t)
	seedServer(t, built, 1500)
	rel := newSwitchProxy(t, built.URL)
	history := newLaptop(t, filepath.Join(t.TempDir(), "laptop"))
	history.must("enroll", "--server", rel.srv.URL, "--code", built.EnrollCode(t, built.TeamA))
	history.must("sync")
	var unsent []string
	for i := 0; i < 5; i++ {
		id, r := history.add(built.HamletsA[0], fmt.Sprintf("Hộ chờ gửi %d", i))
		require.NotEmpty(t, id, r.stderr)
		unsent = append(unsent, id)
	}
	w := freeze(rel, built, history)
	const page = 4096
	middle := func(pages []int64) int64 { return pages[len(pages)/2] }
	tests := []struct {
		name string
		// where returns the offset and size of the damage in file.
		where func(t testing.TB, file string) (int64, int)
	}{
		{"16 bytes at a row_state leaf", func(t testing.TB, file string) (int64, int) {
			return (middle(pagesOf(t, file, "row_state", "leaf")) - 1) * page, 16
		}},
		{"a whole row_state leaf", func(t testing.TB, file string) (int64, int) {
			return (middle(pagesOf(t, file, "row_state", "leaf")) - 1) * page, page
		}},
		{"16 bytes at the row_state root", func(t testing.TB, file string) (int64, int) {
			return (pagesOf(t, file, "row_state", "internal")[0] - 1) * page, 16
		}},
		{"a whole households leaf", func(t testing.TB, file string) (int64, int) {
			return (middle(pagesOf(t, file, "households", "leaf")) - 1) * page, page
		}},
		{"a whole outbox page", func(t testing.TB, file string) (int64, int) {
			return (pagesOf(t, file, "outbox", "leaf")[0] - 1) * page, page
		}},
		{"16 bytes at mid-file", func(t testing.TB, file string) (int64, int) {
			st, err := os.Stat(file)
			require.NoError(t, err)
			return st.Size() / 2 / page * page, 16
		}},
		{"a whole page at two thirds", func(t testing.TB, file string) (int64, int) {
			st, err := os.Stat(file)
			require.NoError(t, err)
			return st.Size() * 2 / 3 / page * page, page
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { // one at a time: the world's proxy points to the case's server
			ts, ls := w.thaw(t, t.TempDir())
			l := ls[0]
			ids := slices.Clone(unsent)
			file := filepath.Join(l.dir, "replica.db")
			_, err := os.Stat(file + "-wal")
			require.True(t, os.IsNotExist(err), "the last command checkpointed its log")
			off, size := tt.where(t, file)
			damage(t, file, off, size)

			r := l.run("sync")
			require.Equal(t, exitError, r.code, "sync from a damaged replica:\n%s%s", r.stdout, r.stderr)
			require.Contains(t, r.stderr, "hamlet-agent repair")
			require.Equal(t, 1, countErrorPrefix(r.stderr), r.stderr)
			have := serverHouseholds(t, ts)
			for _, id := range ids {
				require.False(t, have[id], "nothing was pushed from the damaged file")
			}
			// Reading goes on where the file allows, and says what to do.
			r = l.run("status")
			require.Contains(t, r.stdout+r.stderr, "hamlet-agent repair", "status of a damaged replica")
			_, r = l.add(ts.HamletsA[0], "Hộ sau khi hỏng")
			require.Equal(t, exitError, r.code, "household add into a damaged replica:\n%s%s", r.stdout, r.stderr)
			require.Contains(t, r.stderr, "bị hỏng")
			require.Contains(t, r.stderr, "hamlet-agent repair")
			r = l.run("household", "add", "--hamlet", ts.HamletsA[0], "--head", "X", "--lang", "en")
			require.Contains(t, r.stderr, "damaged")
			require.Contains(t, r.stderr, "hamlet-agent repair")

			r = l.must("repair")
			t.Logf("repair:\n%s%s", r.stdout, r.stderr)
			kept, err := filepath.Glob(file + ".damaged-*")
			require.NoError(t, err)
			require.NotEmpty(t, kept, "the damaged file is kept")
			requireOnServer(t, ts, ids)
			ids = append(ids, l.mustAdd(ts.HamletsA[0], "Hộ sau khi sửa"))
			l.must("sync")
			requireOnServer(t, ts, ids)
			require.Zero(t, l.pending())
			require.Len(t, l.households(), len(serverHouseholds(t, ts)), "the repaired replica holds every household of the team again")
		})
	}
}

// smallDisk mounts a tmpfs of size bytes for the test (CI runs as root);
// where mounting is not permitted the test is skipped, saying so.
func smallDisk(t testing.TB, size int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	require.NoError(t, os.Mkdir(dir, 0o700))
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("a full disk needs a small filesystem: mount -t tmpfs failed (%v: %s); run as root to test it", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fill writes a file until the disk has no room left, and returns it.
func fill(t testing.TB, dir string) string {
	t.Helper()
	name := filepath.Join(dir, "filler")
	f, err := os.Create(name)
	require.NoError(t, err)
	defer f.Close()
	block := make([]byte, 4096)
	for {
		if _, err := f.Write(block); err != nil {
			require.ErrorIs(t, err, syscall.ENOSPC)
			return name
		}
	}
}

// Defect 6: on a full disk the agent says the disk is full, to free some
// space, and that the record was not saved (never "cannot reach the
// server" nor "your data is safe"), with "Error:" printed once; the
// record is indeed not saved, and once space is freed everything saved
// before reaches the server. The disk fills while no process has the
// replica open (opening it fails: SQLite cannot make its shared-memory
// index), and while another one has (sync --watch, say: the index is
// there, and the write of the log fails).
func TestFaultFullDisk(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	for _, tt := range []struct {
		name string
		held bool
	}{{"replica closed", false}, {"replica held open by another process", true}} {
		t.Run(tt.name, func(t *testing.T) {
			disk := smallDisk(t, 3<<20)
			l := newLaptop(t, filepath.Join(disk, "hamlet"))
			l.enroll(ts)
			l.must("sync")
			var ids []string
			for i := 0; i < 3; i++ {
				ids = append(ids, l.mustAdd(ts.HamletsA[0], fmt.Sprintf("Hộ trước khi đầy %d", i)))
			}
			if tt.held {
				db, err := sql.Open("sqlite", "file:"+filepath.Join(l.dir, "replica.db")+"?_pragma=busy_timeout(10000)")
				require.NoError(t, err)
				t.Cleanup(func() { db.Close() })
				var n int
				require.NoError(t, db.QueryRow(`SELECT count(*) FROM agent_meta`).Scan(&n))
			}
			filler := fill(t, disk)

			r := l.run("household", "add", "--hamlet", ts.HamletsA[0], "--head", "Hộ khi đĩa đầy")
			require.Equal(t, exitError, r.code, "household add on a full disk:\n%s%s", r.stdout, r.stderr)
			require.Contains(t, r.stderr, "Ổ đĩa của máy đã đầy")
			require.Contains(t, r.stderr, "CHƯA được lưu")
			require.Contains(t, r.stderr, "giải phóng dung lượng")
			require.NotContains(t, r.stderr, "an toàn", "the record was not saved: nothing claims it is safe")
			require.Equal(t, 1, countErrorPrefix(r.stderr), r.stderr)
			r = l.run("household", "add", "--hamlet", ts.HamletsA[0], "--head", "Hộ khi đĩa đầy", "--lang", "en")
			require.Equal(t, exitError, r.code)
			require.Contains(t, r.stderr, "The disk is full")
			require.Contains(t, r.stderr, "this record was NOT saved")
			require.Contains(t, r.stderr, "Free some space")
			require.Equal(t, 1, countErrorPrefix(r.stderr), r.stderr)

			r = l.run("sync")
			require.Equal(t, exitError, r.code, "sync on a full disk:\n%s%s", r.stdout, r.stderr)
			require.Contains(t, r.stderr, "Ổ đĩa của máy đã đầy")
			require.Contains(t, r.stderr, "hamlet-agent sync")
			require.NotContains(t, r.stderr, "Không kết nối được máy chủ")
			require.Equal(t, 1, countErrorPrefix(r.stderr), r.stderr)
			r = l.run("sync", "--lang", "en")
			require.Contains(t, r.stderr, "The disk is full")
			require.NotContains(t, r.stderr, "Cannot reach the server")

			require.NoError(t, os.Remove(filler))
			l.must("sync")
			requireOnServer(t, ts, ids)
			for _, rec := range l.list() {
				require.NotEqual(t, "Hộ khi đĩa đầy", rec.Head, "a record reported not saved is not there")
			}
			require.Zero(t, l.pending())
		})
	}
}
