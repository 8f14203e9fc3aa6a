package main

import (
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestCopyOfAFolderWithAResendUntoldIsToldACopy: a laptop's sync to a
// server restored from a backup sends the changes it lost again, and is
// cut at the pull after, in every attempt: the resend waits to be told
// (fork_untold). The data folder is copied to a second laptop before a
// sync ends well, and the copy, whose first sync finds it is a copy and
// takes a new replica id, must say so ("Thư mục dữ liệu này là bản sao"):
// the volunteer, or IT staff, should know two laptops held one folder.
// The resend the note still held hid it: a summary with changes resent
// says that alone.
func TestCopyOfAFolderWithAResendUntoldIsToldACopy(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ lang, copied string }{
		{"", "Thư mục dữ liệu này là bản sao"},
		{"en", "This data folder is a copy"},
	} {
		t.Run("lang="+c.lang, func(t *testing.T) {
			ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
			root := t.TempDir()
			a := newLaptop(t, filepath.Join(root, "a"))
			a.lang = c.lang
			a.enroll(ts)
			a.mustAdd(ts.HamletsA[0], "Trước sao lưu")
			a.must("sync")
			restore := restoredServer(t, ts)
			a.mustAdd(ts.HamletsA[0], "Sau sao lưu")
			a.must("sync")
			ts2 := restore()
			cuts := new(atomic.Int32)
			url := pullCutProxy(t, ts2.URL[len("http://"):], cuts)

			cuts.Store(4)
			r := a.run("sync", "--server", url)
			require.NotEqual(t, 0, r.code, "the sync was cut")
			cuts.Store(0)
			b := a.copyTo(filepath.Join(root, "b"))

			r = a.must("sync", "--server", url)
			t.Logf("the original's next sync:\n%s%s", r.stdout, r.stderr)
			a.mustAdd(ts.HamletsA[0], "Bản gốc")
			a.must("sync", "--server", url)

			b.mustAdd(ts.HamletsA[0], "Bản chép")
			r = b.must("sync", "--server", url)
			t.Logf("the copy's first sync:\n%s%s", r.stdout, r.stderr)
			require.NotEqual(t, a.status()["replica_id"], b.status()["replica_id"], "the copy took its own id")
			require.Contains(t, r.stdout+r.stderr, c.copied, "the copy is told it is one")
		})
	}
}
