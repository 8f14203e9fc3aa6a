package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestRepairThatCannotMoveTheFileAsideSaysCloseHamlet: a repair's first
// step moves the damaged file aside. On Windows the SQLite driver opens
// the file without FILE_SHARE_DELETE, so while the app or another
// hamlet-agent command has it open, that rename fails; the volunteer read
// "the command did not finish … try again" with the OS error, which did
// not say why nor that closing Hamlet helps, and running it again fails
// the same. Here the file (as on Windows) or the whole data folder is
// made immutable, which refuses the rename (and the marker naming where
// the file goes) the same way. The repair must say, Vietnamese first,
// that nothing was changed or lost and to close Hamlet and run it again,
// leave the file exactly as it was, and work once the file can be moved.
func TestRepairThatCannotMoveTheFileAsideSaysCloseHamlet(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	for _, c := range []struct{ name, immutable string }{
		{"the replica file", "replica.db"}, // the rename itself is refused
		{"the data folder", ""},            // so is writing where the file goes
	} {
		t.Run(c.name, func(t *testing.T) {
			l := newLaptop(t, attrDir(t))
			l.enroll(ts)
			l.must("sync")
			unsent := l.mustAdd(ts.HamletsA[0], "Hộ chờ gửi")
			file := filepath.Join(l.dir, "replica.db")
			damage(t, file, (pagesOf(t, file, "row_state", "leaf")[0]-1)*4096, 4096)
			r := l.run("sync") // finds the damage and marks the file
			require.Contains(t, r.stderr, "hamlet-agent repair", "sync from the damaged file:\n%s%s", r.stdout, r.stderr)
			before, err := os.ReadFile(file)
			require.NoError(t, err)

			undo := immutable(t, filepath.Join(l.dir, c.immutable))
			for _, m := range []struct{ lang, first, advice, detail string }{
				{"", "Lỗi: Chưa sửa được tệp dữ liệu: Hamlet không chuyển được tệp hỏng",
					"Không có dữ liệu nào bị thay đổi hay mất. Hãy đóng ứng dụng Hamlet", "chi tiết cho cán bộ CNTT"},
				{"en", "Error: The data file was not repaired: Hamlet could not move the damaged file",
					"No data was changed or lost. Close the Hamlet app", "detail for IT staff"},
			} {
				args := []string{"repair"}
				if m.lang != "" {
					args = append(args, "--lang", m.lang)
				}
				r = l.run(args...)
				t.Logf("repair --lang %q: exit %d\n%s%s", m.lang, r.code, r.stdout, r.stderr)
				require.Equal(t, exitError, r.code)
				require.True(t, strings.HasPrefix(r.stderr, m.first), "the first thing read says what failed, in the volunteer's language:\n%s", r.stderr)
				require.Contains(t, r.stderr, m.advice)
				require.Contains(t, r.stderr, "hamlet-agent repair")
				require.Less(t, strings.Index(r.stderr, "hamlet-agent repair"), strings.Index(r.stderr, m.detail), "the OS error comes after the advice, for IT staff")
				require.Contains(t, r.stderr, "operation not permitted", "the OS error is kept for IT staff")
			}
			after, err := os.ReadFile(file)
			require.NoError(t, err)
			require.True(t, bytes.Equal(before, after), "the damaged file is exactly as it was")
			moved, err := filepath.Glob(file + ".damaged-*")
			require.NoError(t, err)
			require.Empty(t, moved, "nothing was moved aside")

			undo() // Hamlet closed: the file can be moved
			r = l.must("repair")
			t.Logf("repair again: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			moved, err = filepath.Glob(file + ".damaged-*")
			require.NoError(t, err)
			require.Len(t, moved, 1, "the damaged file is kept aside")
			kept, err := os.ReadFile(moved[0])
			require.NoError(t, err)
			require.True(t, bytes.Equal(before, kept), "kept as it was")
			require.True(t, l.households()[unsent], "the unsent household is in the repaired file")
			requireOnServer(t, ts, []string{unsent})
		})
	}
}

// immutable makes path immutable (chattr +i: not renamed, nor, a folder,
// anything created or renamed in it) until undo or the test's end, when
// it must be taken off or the test's folder cannot be removed. Where it
// cannot be set (no chattr, not root, a filesystem without it, like
// tmpfs) the test is skipped, saying so.
func immutable(t *testing.T, path string) (undo func()) {
	t.Helper()
	if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
		t.Skipf("a file that cannot be moved needs chattr +i (as root, on ext4 or the like): %v: %s", err, bytes.TrimSpace(out))
	}
	undo = func() {
		out, err := exec.Command("chattr", "-i", path).CombinedOutput()
		require.NoError(t, err, "chattr -i %s: %s", path, out)
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", path).Run() })
	return undo
}

// attrDir is a folder for the test where chattr +i works: t.TempDir(),
// unless TMPDIR is a tmpfs, which has no such flag (make test keeps it in
// memory: scripts/tmpfs-run.sh), and then one in /var/tmp, on the disk;
// where neither works, t.TempDir() (immutable skips, saying why).
func attrDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if chattrWorks(dir) {
		return dir
	}
	if disk, err := os.MkdirTemp("/var/tmp", "hamlet-chattr-"); err == nil {
		t.Cleanup(func() { _ = os.RemoveAll(disk) })
		if chattrWorks(disk) {
			return disk
		}
	}
	return dir
}

// chattrWorks: a file made in dir takes chattr +i (and -i again).
func chattrWorks(dir string) bool {
	probe := filepath.Join(dir, "probe")
	if os.WriteFile(probe, nil, 0o600) != nil {
		return false
	}
	defer os.Remove(probe)
	ok := exec.Command("chattr", "+i", probe).Run() == nil
	_ = exec.Command("chattr", "-i", probe).Run()
	return ok
}
