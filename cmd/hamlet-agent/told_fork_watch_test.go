package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestWatchTellsACopiedFolder: `sync --watch` on a data folder copied from
// another laptop takes a new replica id, as `sync` does, and must say so
// as `sync` does ("Thư mục dữ liệu này là bản sao …"). Its summary of the
// fork sent nothing itself and was not printed: watch never said it.
func TestWatchTellsACopiedFolder(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ lang, copied string }{
		{"", "Thư mục dữ liệu này là bản sao"},
		{"en", "This data folder is a copy"},
	} {
		t.Run("lang="+c.lang, func(t *testing.T) {
			ts := servertest.Start(t)
			root := t.TempDir()
			a := newLaptop(t, filepath.Join(root, "a"))
			a.enroll(ts)
			a.mustAdd(ts.HamletsA[0], "Trước khi chép")
			a.must("sync")
			b := newLaptop(t, filepath.Join(root, "b"))
			a.copyTo(b.dir)
			b.lang = c.lang
			a.mustAdd(ts.HamletsA[0], "Bản gốc")
			a.must("sync")
			b.mustAdd(ts.HamletsA[0], "Bản chép")

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := b.command(ctx, "sync", "--watch")
			var out, errOut syncBuffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			require.NoError(t, cmd.Start())
			defer func() { cancel(); _ = cmd.Wait() }()
			require.Eventually(t, func() bool { return len(serverHouseholds(t, ts)) == 3 }, 30*time.Second, 200*time.Millisecond,
				"the copy's household reached the server")
			time.Sleep(time.Second)
			got := out.String() + errOut.String()
			t.Logf("sync --watch on the copy:\n%s", got)
			require.Equal(t, 1, strings.Count(got, c.copied), "the fork is told once:\n%s", got)
		})
	}
}

// TestCopiedFolderWithNothingToSendSaysSo: a copy that made no change of
// its own since the copy is told it is one, without "sent again 0
// changes", which reads as if something had been lost.
func TestCopiedFolderWithNothingToSendSaysSo(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ lang, copied, nothing, zero string }{
		{"", "Thư mục dữ liệu này là bản sao", "không cần gửi lại gì", "gửi lại 0 thay đổi"},
		{"en", "This data folder is a copy", "nothing needed sending again", "sent again, under it, 0 changes"},
	} {
		t.Run("lang="+c.lang, func(t *testing.T) {
			ts := servertest.Start(t)
			root := t.TempDir()
			a := newLaptop(t, filepath.Join(root, "a"))
			a.enroll(ts)
			a.mustAdd(ts.HamletsA[0], "Trước khi chép")
			a.must("sync")
			b := newLaptop(t, filepath.Join(root, "b"))
			a.copyTo(b.dir)
			b.lang = c.lang
			a.mustAdd(ts.HamletsA[0], "Bản gốc")
			a.must("sync")
			r := b.must("sync")
			got := r.stdout + r.stderr
			t.Logf("sync on the copy:\n%s", got)
			require.Contains(t, got, c.copied)
			require.Contains(t, got, c.nothing)
			require.NotContains(t, got, c.zero)
		})
	}
}
