package main

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestStaleWALRestoredWhileAppOpen (helper 190): as
// TestStaleWALRestoredMixed, but the app stays open the whole time, as
// it does on a volunteer's laptop, and holds no read: no command is the
// last to close the file, so the -wal is never removed, and after each
// sync's checkpoint SQLite begins it again from its start. wal_base is
// noted only when a write finds the -wal empty (agent/walcheck.go), so every
// -wal begun again keeps the base of the app's first write: a file from
// an earlier moment paired with it passes the check, though the pages
// copied into the file in between are in neither.
func TestStaleWALRestoredWhileAppOpen(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	l := newLaptop(t, t.TempDir())
	l.enroll(ts)
	l.must("sync")
	file := filepath.Join(l.dir, "replica.db")
	app := startApp(t, l)
	snaps := map[string]string{}
	var ids []string
	for _, m := range []struct{ name, head string }{{"A", "Hộ Một"}, {"B", "Hộ Hai"}, {"C", "Hộ Ba"}} {
		ids = append(ids, l.mustAdd(ts.HamletsA[0], m.head))
		l.must("sync")
		fi, err := os.Stat(file + "-wal")
		require.NoError(t, err)
		require.Greater(t, fi.Size(), int64(32))
		dir := filepath.Join(t.TempDir(), m.name)
		out, err := exec.Command("cp", "-R", l.dir, dir).CombinedOutput()
		require.NoError(t, err, "%s", out)
		snaps[m.name] = dir
	}
	app.kill()
	requireOnServer(t, ts, ids)
	for _, tc := range []struct{ db, wal string }{{"A", "C"}, {"B", "C"}, {"A", "B"}, {"A", "A"}, {"B", "B"}, {"C", "C"}} {
		t.Run("db "+tc.db+" wal "+tc.wal, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "restored")
			r := (&laptop{t: t, bin: l.bin, dir: snaps[tc.db]}).copyTo(dir)
			wal, err := os.ReadFile(filepath.Join(snaps[tc.wal], "replica.db-wal"))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "replica.db-wal"), wal, 0o600))
			os.Remove(filepath.Join(dir, "replica.db-shm"))
			os.Remove(filepath.Join(dir, appFile))
			// Whether the pair belongs together: SQLite reads through it
			// what it reads through the -wal's own moment.
			together := pairDump(t, filepath.Join(snaps[tc.db], "replica.db"), filepath.Join(snaps[tc.wal], "replica.db-wal")) ==
				pairDump(t, filepath.Join(snaps[tc.wal], "replica.db"), filepath.Join(snaps[tc.wal], "replica.db-wal"))
			first := r.run("sync")
			t.Logf("pair belongs together: %v; first sync: exit %d\n%s%s", together, first.code, first.stdout, first.stderr)
			if strings.Contains(first.stderr, "hamlet-agent repair") {
				require.False(t, together, "a pair that belongs together is refused")
				r.must("repair")
				r.must("sync")
			}
			got := r.households()
			for i, id := range ids {
				require.True(t, got[id], "household %d of %d, acknowledged by the server, is on the laptop", i+1, len(ids))
			}
		})
	}
}

// pairDump is every row SQLite reads through the file db with the -wal
// wal beside it (copies of both, so neither changes).
func pairDump(t *testing.T, db, wal string) string {
	t.Helper()
	dir := t.TempDir()
	for src, dst := range map[string]string{db: "replica.db", wal: "replica.db-wal"} {
		b, err := os.ReadFile(src)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, dst), b, 0o600))
	}
	h, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "replica.db")+"?mode=ro")
	require.NoError(t, err)
	defer h.Close()
	var names []string
	rows, err := h.Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	require.NoError(t, err)
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		names = append(names, n)
	}
	require.NoError(t, rows.Err())
	rows.Close()
	var b strings.Builder
	for _, n := range names {
		rs, err := h.Query(`SELECT * FROM "` + n + `" ORDER BY 1`)
		require.NoError(t, err, n)
		cols, _ := rs.Columns()
		for rs.Next() {
			v := make([]any, len(cols))
			p := make([]any, len(cols))
			for i := range v {
				p[i] = &v[i]
			}
			require.NoError(t, rs.Scan(p...))
			fmt.Fprintf(&b, "%s %v\n", n, v)
		}
		rs.Close()
	}
	return b.String()
}
