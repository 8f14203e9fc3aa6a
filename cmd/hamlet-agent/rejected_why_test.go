package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A laptop 3 days behind syncs (it learns a +72h offset); its owner then
// sets the date right by hand and records a visit before the next sync. The
// visit is dated 3 days ahead and the server refuses it as in the future.
// `rejected` showed only the code's general hint ("invalid value, fix it
// and sync") on every field; the volunteer must read why (the date is in
// the future) and what to check (the clock), as --json always said
// (helper 129).
func TestRejectedSaysTheServersReason(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	l, id := clockSetRightAfterSync(t, ts, "-72h")
	l.must("visit", "add", "--household", id, "--notes", "sau khi chỉnh giờ")
	require.Contains(t, l.must("sync").stdout, "bị từ chối 5")
	require.Contains(t, l.must("rejected", "--json").stdout, "ở tương lai", "the reason is stored")
	out := l.must("rejected").stdout
	require.Contains(t, out, "tương lai", "the volunteer is told the visit date is in the future")
	require.Contains(t, out, "đồng hồ", "and to check the laptop's clock")
	out = l.must("rejected", "--lang", "en").stdout
	require.Contains(t, out, "future", "in English too")
}
