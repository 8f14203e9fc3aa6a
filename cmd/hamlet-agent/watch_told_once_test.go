package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// `sync --watch` tells a clone and a hamlet gained once, with the session
// that brought them. A session's later summaries (a write pushed, a
// teammate's pulled, while it stays open) carried the session's whole
// clone and scope change: each printed "received" the clone's count again,
// "Đã tải về máy … bản ghi của tổ" and "Tổ được giao thêm ấp/khóm …" again,
// though they brought one record. And the session after one that told its
// clone, then ended (here by the scope change), told it again as "Đã tải
// xong dữ liệu của tổ về máy (lần đồng bộ này tải 0 bản ghi cuối cùng)":
// 9f2415e's carry is for a clone whose session ended before telling it.
func TestWatchTellsACloneAndAHamletGainedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	mate := newLaptop(t, t.TempDir())
	mate.enroll(ts)
	mate.mustAdd(ts.HamletsA[0], "Lâm Thị Sáu")
	mate.mustAdd(ts.HamletsA[0], "Trần Văn Bảy")
	mate.must("sync")

	l := newLaptop(t, t.TempDir())
	l.enroll(ts)
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := l.command(wctx, "sync", "--watch")
	var out, errOut syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Start())
	defer func() { cancel(); _ = cmd.Wait() }()
	waitFor := func(what string, n int) {
		t.Helper()
		for strings.Count(out.String(), what) < n && wctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
		}
		require.GreaterOrEqual(t, strings.Count(out.String(), what), n, "waited for %q\nstdout:\n%s\nstderr:\n%s", what, &out, &errOut)
	}
	const cloned, gained, synced = "Đã tải về máy 2 bản ghi của tổ", "Tổ được giao thêm ấp/khóm", "Đồng bộ xong"
	waitFor(cloned, 1)

	// A write on this laptop, pushed by the open session.
	l.mustAdd(ts.HamletsA[1], "Ngô Thị Tám")
	waitFor(synced, 2)
	// The team gains a hamlet: the server ends the session, the next one
	// back-fills it and says so.
	_, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, ts.OtherHamletA)
	require.NoError(t, err)
	waitFor(gained, 1)
	n := strings.Count(out.String(), synced)
	// A teammate's write, pulled by the open session; one of this laptop.
	mate.mustAdd(ts.HamletsA[0], "Đỗ Văn Chín")
	mate.must("sync")
	waitFor(synced, n+1)
	l.mustAdd(ts.HamletsA[1], "Phan Thị Mười")
	waitFor(synced, n+2)

	got := out.String()
	t.Logf("stdout:\n%s", got)
	require.Equal(t, 1, strings.Count(got, cloned), "the clone told once:\n%s", got)
	require.NotContains(t, got, "Đã tải xong dữ liệu của tổ", "the clone, told by its own session, told again by the next:\n%s", got)
	require.Equal(t, 1, strings.Count(got, gained), "the hamlet gained told once:\n%s", got)
	require.Equal(t, 1, strings.Count(got, "nhận 2,"), "a later summary counts no clone:\n%s", got)
}
