package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestResentEditThatLostIsListed (helper 222): the server is restored from
// a backup that lacks a volunteer's edit of a household's address; a
// teammate edits the same address later, on the restored server. Her next
// sync sends her edit again (resendLost, under a new replica id, then a
// clone): the teammate's later edit wins, and her laptop must list her
// edit as lost, as the server and the teammate's laptop do. The clone
// replaced the row by the server's and listed nothing: "xung đột 0".
func TestResentEditThatLostIsListed(t *testing.T) {
	t.Parallel() // each builds its own server and laptops
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	root := t.TempDir()
	a := newLaptop(t, filepath.Join(root, "a"))
	a.enroll(ts)
	b := newLaptop(t, filepath.Join(root, "b"))
	b.enroll(ts)
	h := a.mustAdd(ts.HamletsA[0], "Nguyễn Văn Hai")
	a.must("sync")
	b.must("sync")
	restore := restoredServer(t, ts)
	const mine, theirs = "ấp Hai, sửa trước sao lưu", "ấp Hai, đồng đội sửa sau"
	a.must("household", "edit", h, "--set", "address="+mine)
	a.must("sync")
	ts2 := restore()
	time.Sleep(3 * time.Second) // more than the clock bound ε = 2 s
	b.must("household", "edit", h, "--set", "address="+theirs)
	b.must("sync", "--server", ts2.URL)
	for _, l := range []*laptop{a, b, a} {
		r := l.must("sync", "--server", ts2.URL)
		t.Logf("sync of %s:\n%s%s", filepath.Base(l.dir), r.stdout, r.stderr)
	}
	logIfFailed(t, func() {
		for _, l := range []*laptop{a, b} {
			t.Logf("%s: conflicts %+v", filepath.Base(l.dir), l.conflicts())
		}
	})
	for _, l := range []*laptop{a, b} {
		require.Equal(t, theirs, l.household(h)["address"], "%s: the later edit wins", filepath.Base(l.dir))
	}
	listed := false
	for _, cf := range a.conflicts() {
		listed = listed || cf.Row == h && cf.Field == "address" && cf.Loser.Value == mine && cf.Winner.Value == theirs
	}
	require.True(t, listed, "a, the laptop whose resent edit lost, lists it")
}
