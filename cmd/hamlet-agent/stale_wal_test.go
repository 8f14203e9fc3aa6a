package main

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// staleWALWorld: a laptop whose data folder is copied at three moments
// while the agent's file is open elsewhere (the app showing a list, a
// backup tool copying): each moment after the volunteer saved a
// household and the server acknowledged it. Between the moments the file
// was closed, which checkpoints the -wal into replica.db and removes it:
// each moment's -wal began on the file as the one before left it.
// It returns the server, the three copies (A, B, C) and the households.
func staleWALWorld(t *testing.T) (*servertest.TS, map[string]string, []string) {
	t.Helper()
	ts := servertest.Start(t)
	l := newLaptop(t, t.TempDir())
	l.enroll(ts)
	l.must("sync")
	file := filepath.Join(l.dir, "replica.db")
	// Another process with the file open, reading (the app showing a
	// list): no command's end checkpoints the -wal away meanwhile.
	hold := func() func() {
		db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)")
		require.NoError(t, err)
		c, err := db.Conn(context.Background())
		require.NoError(t, err)
		_, err = c.ExecContext(context.Background(), `BEGIN`)
		require.NoError(t, err)
		var n int
		require.NoError(t, c.QueryRowContext(context.Background(), `SELECT count(*) FROM agent_meta`).Scan(&n))
		return func() {
			_, err := c.ExecContext(context.Background(), `COMMIT`)
			require.NoError(t, err)
			require.NoError(t, c.Close())
			require.NoError(t, db.Close())
		}
	}
	snap := func(name string) string {
		fi, err := os.Stat(file + "-wal")
		require.NoError(t, err)
		require.Greater(t, fi.Size(), int64(32), "moment %s: the -wal holds frames", name)
		// Copied by another process, as a backup tool does: closing a
		// file this process read would drop the locks of the connection
		// holding it open (POSIX locks are the process's).
		dir := filepath.Join(t.TempDir(), name)
		out, err := exec.Command("cp", "-R", l.dir, dir).CombinedOutput()
		require.NoError(t, err, "%s", out)
		return dir
	}
	// A commune's list first: its tables span many pages, so that two
	// households saved later land in pages of their own.
	csv := householdCSV(t, 400)
	l.must("import", "--hamlet", ts.HamletsA[1], csv)
	l.must("sync")
	var ids []string
	snaps := map[string]string{}
	for _, m := range []struct{ name, head string }{{"A", "Hộ Một"}, {"B", "Hộ Hai"}, {"C", "Hộ Ba"}} {
		release := hold()
		ids = append(ids, l.mustAdd(ts.HamletsA[0], m.head))
		l.must("sync")
		snaps[m.name] = snap(m.name)
		release()
		l.must("status") // the last to close: checkpoints and removes the -wal
		_, err := os.Stat(file + "-wal")
		require.ErrorIs(t, err, os.ErrNotExist)
	}
	requireOnServer(t, ts, ids)
	return ts, snaps, ids
}

// TestStaleWALRestoredMixed (helper 187): the folder is restored with
// replica.db from one moment and replica.db-wal from another. SQLite
// ties a -wal's frames to its own header, not to the file: it replays
// them over whatever the file holds. A -wal begun after a checkpoint the
// file lacks (db A or B, wal C) left the laptop without households the
// server had acknowledged, its counters from the -wal: the syncs said
// "nhận 0" and nothing else, and the households never came back; an
// older -wal over a newer file (db C, wal A; db A, wal B here) was told
// as a disk fault. Every mix must end with every acknowledged household
// on the laptop, and a mix that lost any must be told (the copy found at
// sync, or the -wal refused, naming it, with what to do).
func TestStaleWALRestoredMixed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ db, wal string }{
		{"C", "A"}, {"C", "B"}, {"B", "A"}, {"A", "C"}, {"B", "C"}, {"A", "B"},
	} {
		t.Run("db "+tc.db+" wal "+tc.wal, func(t *testing.T) {
			ts, snaps, ids := staleWALWorld(t)
			dir := filepath.Join(t.TempDir(), "restored")
			l := (&laptop{t: t, bin: agentBinary(t), dir: snaps[tc.db]}).copyTo(dir)
			wal, err := os.ReadFile(filepath.Join(snaps[tc.wal], "replica.db-wal"))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "replica.db-wal"), wal, 0o600))
			if err := os.Remove(filepath.Join(dir, "replica.db-shm")); !os.IsNotExist(err) {
				require.NoError(t, err)
			}
			alone := countAlone(t, filepath.Join(dir, "replica.db"))

			first := l.run("sync")
			t.Logf("first sync: exit %d\n%s%s", first.code, first.stdout, first.stderr)
			refused := strings.Contains(first.stderr, "hamlet-agent repair")
			if refused {
				require.Contains(t, first.stderr, "replica.db-wal", "says which file is not the replica's")
				r := l.must("repair")
				t.Logf("repair:\n%s%s", r.stdout, r.stderr)
				first = l.must("sync")
				t.Logf("sync after the repair:\n%s%s", first.stdout, first.stderr)
			}
			got := l.households()
			for i, id := range ids {
				require.True(t, got[id], "household %d of %d, acknowledged by the server, is on the laptop (file alone: %d households)", i+1, len(ids), alone)
			}
			requireOnServer(t, ts, ids)
		})
	}
}

// countAlone counts the households the replica file holds without its
// -wal (read as immutable: SQLite leaves the -wal out).
func countAlone(t *testing.T, file string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+file+"?mode=ro&immutable=1")
	require.NoError(t, err)
	defer db.Close()
	var n int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM households`).Scan(&n))
	return n
}
