package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// cutCopy: a copy of a laptop's folder whose first sync forks and is then
// cut at its pull in every attempt. It returns the copy and the address
// (through the proxy, no longer cutting).
func cutCopy(t *testing.T) (*servertest.TS, *laptop, string) {
	ts := servertest.Start(t)
	cuts := new(atomic.Int32)
	url := pullCutProxy(t, ts.URL[len("http://"):], cuts)
	root := t.TempDir()
	a := newLaptop(t, filepath.Join(root, "a"))
	a.must("enroll", "--server", url, "--code", ts.EnrollCode(t, ts.TeamA))
	a.mustAdd(ts.HamletsA[0], "Trước khi chép")
	a.must("sync")
	b := a.copyTo(filepath.Join(root, "b"))
	a.mustAdd(ts.HamletsA[0], "Bản gốc")
	a.must("sync")
	b.mustAdd(ts.HamletsA[0], "Bản chép")
	cuts.Store(4)
	r := b.run("sync")
	require.NotEqual(t, 0, r.code, "the sync was cut")
	require.NotContains(t, r.stdout+r.stderr, "Thư mục dữ liệu này là bản sao")
	cuts.Store(0)
	return ts, b, url
}

// After a cut sync, the copy is told once by `sync --watch`, and not again
// by the `sync` after it.
func TestCopiedFolderToldByWatchAfterACutSync(t *testing.T) {
	t.Parallel()
	ts, b, _ := cutCopy(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := b.command(ctx, "sync", "--watch")
	var out, errOut syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool { return len(serverHouseholds(t, ts)) == 3 }, 30*time.Second, 200*time.Millisecond)
	time.Sleep(2 * time.Second)
	_ = cmd.Process.Signal(os.Interrupt)
	_ = cmd.Wait()
	got := out.String() + errOut.String()
	t.Logf("sync --watch:\n%s", got)
	require.Equal(t, 1, strings.Count(got, "Thư mục dữ liệu này là bản sao"), "told once")
	r := b.must("sync")
	require.NotContains(t, r.stdout+r.stderr, "Thư mục dữ liệu này là bản sao", "told once")
}

// After a cut sync, the app opened tells the copy on its sync page, once,
// and the command line after it does not tell it again.
func TestCopiedFolderToldByTheAppAfterACutSync(t *testing.T) {
	t.Parallel()
	_, b, _ := cutCopy(t)
	a := startApp(t, b)
	const copied = "Thư mục dữ liệu này là bản sao"
	var page string
	require.Eventually(t, func() bool { page = a.syncPage(); return strings.Contains(page, copied) }, 60*time.Second, 100*time.Millisecond)
	time.Sleep(2 * time.Second)
	page = a.syncPage()
	require.Equal(t, 1, strings.Count(page, copied), "told once:\n%s", page)
	a.stop()
	a = startApp(t, b)
	time.Sleep(2 * time.Second)
	require.Equal(t, 1, strings.Count(a.syncPage(), copied), "told once, opened again")
	a.stop()
	r := b.must("sync")
	require.NotContains(t, r.stdout+r.stderr, copied, "told by the app")
}

// sync --json after a cut sync carries the fork once.
func TestCopiedFolderJSONAfterACutSync(t *testing.T) {
	t.Parallel()
	_, b, _ := cutCopy(t)
	r := b.must("sync", "--json")
	t.Logf("sync --json:\n%s", r.stdout)
	require.Contains(t, r.stdout, `"fork"`)
	r = b.must("sync", "--json")
	require.NotContains(t, r.stdout, `"fork"`)
}
