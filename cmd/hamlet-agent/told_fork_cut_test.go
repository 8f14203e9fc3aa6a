package main

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestCopiedFolderToldAfterACutSync (helper 209): a data folder copied
// from another laptop takes a new replica id in its first sync, which is
// then cut at the pull after (a link that drops), in every attempt. The
// sync prints its error; the next one, which ends well, must say the
// folder was a copy (the volunteer, or IT staff, should know two laptops
// held one folder): the fork was done and nothing else ever would. Told
// once.
func TestCopiedFolderToldAfterACutSync(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ lang, copied string }{
		{"", "Thư mục dữ liệu này là bản sao"},
		{"en", "This data folder is a copy"},
	} {
		t.Run("lang="+c.lang, func(t *testing.T) {
			ts, b, _ := cutCopy(t) // its first sync forked, then was cut in every attempt
			b.lang = c.lang
			r := b.must("sync")
			t.Logf("next sync:\n%s%s", r.stdout, r.stderr)
			require.Equal(t, 1, strings.Count(r.stdout+r.stderr, c.copied), "the copy told once:\n%s%s", r.stdout, r.stderr)
			r = b.must("sync")
			require.NotContains(t, r.stdout+r.stderr, c.copied, "told once")
			require.Len(t, serverHouseholds(t, ts), 3, "the copy's household reached the server")
		})
	}
}

// TestChangesResentToARestoredServerToldAfterACutSync: the server is
// restored from a backup older than the laptop's last sync; the laptop's
// next sync sends the changes it lost again, under a new replica id, and
// is then cut at the pull, in every attempt. The next sync that ends well
// must say the server had lost changes, sent again, and to tell IT staff
// (not that the folder is a copy), once.
func TestChangesResentToARestoredServerToldAfterACutSync(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	l := newLaptop(t, t.TempDir())
	l.enroll(ts)
	l.mustAdd(ts.HamletsA[0], "Trước sao lưu")
	l.must("sync")
	restore := restoredServer(t, ts)
	l.mustAdd(ts.HamletsA[0], "Sau sao lưu")
	l.must("sync")
	ts2 := restore()
	cuts := new(atomic.Int32)
	url := pullCutProxy(t, ts2.URL[len("http://"):], cuts)

	cuts.Store(4)
	r := l.run("sync", "--server", url)
	t.Logf("the sync to the restored server, cut after the resend: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	require.NotEqual(t, 0, r.code, "the sync was cut")
	require.Len(t, serverHouseholds(t, ts2), 2, "the household the server lost is sent again")
	told := r.stdout + r.stderr
	cuts.Store(0)

	r = l.must("sync", "--server", url)
	t.Logf("next sync:\n%s%s", r.stdout, r.stderr)
	told += r.stdout + r.stderr
	require.Equal(t, 1, strings.Count(told, "Máy chủ đã mất"), "the resend told once:\n%s", told)
	require.NotContains(t, told, "Thư mục dữ liệu này là bản sao", "the folder is no copy")
	r = l.must("sync", "--server", url)
	require.NotContains(t, r.stdout+r.stderr, "Máy chủ đã mất", "told once")
}
