package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/refusal"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Issue 16, item 8: a refusal's reason travels as a key and parameters,
// and the agent renders it in its user's language: all Vietnamese by
// default, all English with --lang en (it used to mix the server's English
// with Vietnamese). A real server on loopback refuses an edit made after
// the hamlet left the laptop's team. The hamlet is named as the volunteer
// knows it, "Khóm 2 (32002-02)", not by its code alone, and called
// "ấp/khóm" (helper 216: "Ấp 32002-02" for a hamlet named Khóm 2).
func TestRejectedReasonInTheUsersLanguage(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	l := newLaptop(t, t.TempDir())
	l.enroll(ts)
	lost := ts.HamletsA[1]
	id := l.mustAdd(lost, "Trần Văn Mười")
	l.must("sync")
	named := enrolledHamletName(t, l, lost) + " (" + lost + ")"
	_, err := ts.Admin.RemoveTeamHamlet(context.Background(), ts.TeamA, lost)
	require.NoError(t, err)
	l.must("household", "edit", id, "--phone", "0911111111") // offline, after the removal
	l.must("sync")

	vi := l.must("rejected").stdout
	require.Contains(t, vi, "Ấp/khóm "+named+" đã được bỏ khỏi tổ của máy này lúc ")
	require.NotContains(t, vi, "was removed", "one language, not two")
	l.lang = "en"
	en := l.must("rejected").stdout
	require.Contains(t, en, "Hamlet "+named+" was removed from this device's team at ")
	require.NotContains(t, en, "đã được bỏ")

	var rows []struct {
		Code   string
		Reason string
		Why    struct {
			Key    string
			Params map[string]string
		}
	}
	out := l.must("rejected", "--json").stdout
	require.NoError(t, json.Unmarshal([]byte(out), &rows), out)
	require.Len(t, rows, 1)
	require.Equal(t, "moved_out_of_scope", rows[0].Code)
	require.Equal(t, refusal.HamletRemoved, rows[0].Why.Key)
	require.Equal(t, lost, rows[0].Why.Params["hamlet"])
	require.Contains(t, rows[0].Reason, "was removed", "--json's reason in the asked language too")
}
