//go:build unix

package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A process that still holds the replaced data file closes it last
// (helper 239). A repair or a restored backup puts a new replica.db in
// place while the app or sync --watch keeps the old one open (they stop
// writing to it: agent.ReplacedError). SQLite names a file's write-ahead
// log and its index by the file's path: the last connection of a process
// to close checkpoints, deletes "replica.db-wal" and unlinks
// "replica.db-shm", by name. Closing the old file after another process
// opened the new one and saved households (still only in the new -wal,
// not yet copied into the file), the old process would delete the new
// file's log and index.
//
// SQLite's guard against it is what this test pins: at close, the pager
// asks the file whether it has moved (pager.c databaseIsUnmoved,
// SQLITE_FCNTL_HAS_MOVED; os_unix.c fileHasMoved: the path no longer
// names the inode it opened), and if so neither checkpoints nor deletes.
// modernc.org/sqlite is SQLite translated to Go, so it is checked here
// rather than assumed, through real processes: the old file's holder, the
// app opened again on the new file (its log open while it runs), and
// fresh commands. With the guard taken away (Replica.Close made to delete
// both by name after a replacement, as SQLite would), the log was gone as
// the old holder exited and a household list missed the three households
// the new app had saved; a household a command saved meanwhile was lost
// for good when the new app closed (its close removed that command's log
// by name), and all four of the app's when it died instead. Unlinking
// only the index, the app wrote over the command's household in the log.
//
// The guard is skipped for a pager that has read no page (dbSize 0):
// every process of ours reads its replica as it opens it (its id, its
// migrations), before a replacement can come, and SQLite writes the
// first page of even an empty database as it puts it in WAL mode.
//
// Unix only: Windows does not replace a file another process holds open.
func TestOldFileClosedAfterReplacementKeepsTheNewLog(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// watch: the old file's holder is sync --watch, busy (stopped
		// here, standing for a long transfer on a slow link) while the
		// file is replaced; it meets the replacement afterwards and stops
		// itself. Otherwise it is the app, which the volunteer closes.
		watch bool
		// restore: the file is replaced as a restored backup is;
		// otherwise by hamlet-agent repair.
		restore bool
		// killNew: the app on the new file dies (the battery) rather
		// than closes: its log is all there is of what it saved.
		killNew bool
	}{
		{name: "app open, repair"},
		{name: "watch busy, restore", watch: true, restore: true},
		{name: "app open, restore, new app dies", restore: true, killNew: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := servertest.Start(t)
			link := newDroppableLink(t, ts.URL)
			l := newLaptop(t, t.TempDir())
			l.must("enroll", "--server", link.URL, "--code", ts.EnrollCode(t, ts.TeamA))
			l.must("sync")
			want := []string{l.mustAdd(ts.HamletsA[0], "Hộ trước khi thay tệp")}
			backup := copyDataFile(t, l.dir)
			path := filepath.Join(l.dir, "replica.db")

			// A: the old file's holder, which has read it (it opened it).
			closeOld := holdOldFile(t, l, tc.watch)

			if tc.restore {
				restoreDataFile(t, l.dir, backup)
			} else {
				require.NoError(t, os.WriteFile(filepath.Join(l.dir, "replica.db.damaged"), []byte(`{"reason":"test"}`), 0o600))
				r := l.must("repair", "--offline")
				t.Logf("repair:\n%s%s", r.stdout, r.stderr)
			}

			// C: the app opened again on the new file, offline (a sync
			// would copy its log into the file as it ends a pull), saves
			// households and keeps the file, its log and its index open.
			link.drop()
			c := startApp(t, l)
			var saved []string
			for i := range 3 {
				id, st, why, err := c.addHH(ts.HamletsA[0], fmt.Sprintf("Hộ lưu sau khi thay tệp %d", i))
				require.NotEmpty(t, id, "%d %s %v", st, why, err)
				saved = append(saved, id)
			}
			want = append(want, saved...)
			// What the hazard needs: the households only in the new -wal.
			alone := householdsAlone(t, path)
			for _, id := range saved {
				require.False(t, alone[id], "a household the app saved is already in the file itself: the log holds nothing to lose")
			}
			wal, shm := statFile(t, path+"-wal"), statFile(t, path+"-shm")
			require.NotZero(t, wal.Size())

			closeOld() // A closes the old file, the last of its process to

			// The new file's log and index are the ones C writes.
			for _, f := range []struct {
				name string
				was  os.FileInfo
			}{{path + "-wal", wal}, {path + "-shm", shm}} {
				now, err := os.Stat(f.name)
				if assert.NoError(t, err, "the old file's holder deleted %s as it closed", filepath.Base(f.name)) {
					assert.True(t, os.SameFile(f.was, now), "%s is not the file the app writes", filepath.Base(f.name))
				}
			}
			// A fresh command, C still open, sees what C saved (the log is
			// there). A command saves, then C does: each writes after the
			// other's commit, not over it (one index, and its locks, shared).
			assertListed(t, l, want, "household list while the app is open, after the old file's holder closed")
			want = append(want, l.mustAdd(ts.HamletsA[0], "Hộ lệnh lưu trong lúc ứng dụng mở"))
			id, st, why, err := c.addHH(ts.HamletsA[0], "Hộ ứng dụng lưu sau khi tiến trình cũ đóng")
			require.NotEmpty(t, id, "%d %s %v", st, why, err)
			want = append(want, id)
			assertListed(t, l, want, "household list after a command and the app saved")

			if tc.killNew {
				c.kill()
			} else {
				stopProc(t, c.cmd.Process, c.done, c.out, "the app on the new file")
			}
			// Lost for good or not: what the next command finds.
			assertListed(t, l, want, "household list after the app closed (or died)")
			r, err := agent.Open(context.Background(), path)
			require.NoError(t, err)
			defer r.Close()
			require.NoError(t, r.Check(context.Background()), "integrity_check and the replica's invariants")
		})
	}
}

// holdOldFile starts the process that holds the data file while it is
// replaced, and returns what makes it close the file: the app is told to
// stop (Ctrl+C); sync --watch is stopped (SIGSTOP) once it has synced,
// and let go again, it meets the replaced file and stops itself.
func holdOldFile(t *testing.T, l *laptop, watch bool) (closeOld func()) {
	t.Helper()
	if !watch {
		a := startApp(t, l)
		return func() { stopProc(t, a.cmd.Process, a.done, a.out, "the app on the old file") }
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a hang's bound only
	t.Cleanup(cancel)
	cmd := l.command(ctx, "sync", "--watch")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		<-done
	})
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "Đồng bộ xong: gửi ") }, 90*time.Second, 50*time.Millisecond,
		"the watch syncs and idles:\n%s", out)
	require.NoError(t, cmd.Process.Signal(syscall.SIGSTOP))
	return func() {
		require.NoError(t, cmd.Process.Signal(syscall.SIGCONT))
		select {
		case <-done:
		case <-time.After(90 * time.Second):
			require.FailNow(t, "sync --watch went on with its file replaced", "%s", out)
		}
		t.Logf("sync --watch printed:\n%s", out)
		require.Contains(t, out.String(), "Tệp dữ liệu đã được thay", "the watch stopped on the replaced file, and closed it")
	}
}

// stopProc stops a process as Ctrl+C does and waits for it to close its
// files and exit; killed, it would close nothing, which tests nothing.
func stopProc(t *testing.T, p *os.Process, done chan struct{}, out *syncBuffer, what string) {
	t.Helper()
	require.NoError(t, p.Signal(os.Interrupt))
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		require.FailNow(t, what+" did not stop on Ctrl+C", "%s", out)
	}
	t.Logf("%s printed:\n%s", what, out)
}

// householdsAlone is the household ids in the file at path itself,
// without its -wal (immutable: SQLite leaves the log out).
func householdsAlone(t *testing.T, path string) map[string]bool {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro&immutable=1")
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.Query(`SELECT id FROM households`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		out[id] = true
	}
	require.NoError(t, rows.Err())
	return out
}

func statFile(t *testing.T, name string) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(name)
	require.NoError(t, err)
	return fi
}

// assertListed checks that a fresh household list shows every id of want.
func assertListed(t *testing.T, l *laptop, want []string, what string) {
	t.Helper()
	got := l.households()
	var missing []string
	for _, id := range want {
		if !got[id] {
			missing = append(missing, id)
		}
	}
	assert.Empty(t, missing, "%s: %d of %d saved households missing (it lists %d)", what, len(missing), len(want), len(got))
}
