package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A report the coordinator returns (out of scope) comes back to the
// volunteer's laptop at the next sync; the CLI must show its new status and
// the reason, in Vietnamese, so the volunteer can tell the resident why.
func TestReportListShowsReturnReason(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	l := newLaptop(t, t.TempDir())
	l.enroll(ts)
	hh := l.mustAdd(ts.HamletsA[0], "Nguyễn Văn An")
	var rec struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(l.must("report", "add", "--household", hh, "--category", "ha_tang_do_thi",
		"--description", "Xin cấp lại giấy khai sinh", "--json").stdout), &rec))
	l.must("sync")

	const reason = "Thủ tục hành chính, không thuộc phản ánh hiện trường"
	_, err := ts.Server.Transition(context.Background(), uuid.MustParse(rec.ID), server.TransitionRequest{To: "returned", Reason: reason})
	require.NoError(t, err)
	l.must("sync")

	out := l.must("report", "list").stdout
	require.Contains(t, out, "Trả lại", "the new status, in Vietnamese")
	require.Contains(t, out, reason, "the reason the report was returned")
}
