package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

// TestOptionAndSetSameValueOtherSpelling: an option and --set that give a
// field the same value written another way (a phone with spaces, the same
// name in NFD) mean one value and must be taken, as the dates and yes/no
// spellings are.
func TestOptionAndSetSameValueOtherSpelling(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	id := addHH(t, dir, "Nguyễn Văn Đức")
	for _, args := range [][]string{
		{"household", "edit", id, "--phone", "0912 345 678", "--set", "phone=0912345678"},
		{"household", "edit", id, "--phone", "+84 912 345 678", "--set", "phone=0912345678"},
		{"household", "edit", id, "--head", norm.NFC.String("Trần Thị Ánh"), "--set", "head_name=" + norm.NFD.String("Trần Thị Ánh")},
		{"household", "edit", id, "--registered-on", "05/12/2026", "--set", "registered_on=2026-12-05"},
		{"household", "edit", id, "--smartphone", "có", "--set", "has_smartphone=true"},
	} {
		r := cli(t, dir, args...)
		require.Equal(t, exitOK, r.code, "%q: %s", args, r.stderr)
	}
}

// TestDerivedFieldSameUUIDOtherCase: the enrolled member's or household's
// own id in capitals is the same id (the schema stores it in lower case);
// keepDerived must not call it "another" volunteer or household.
func TestDerivedFieldSameUUIDOtherCase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	id := addHH(t, dir, "Nguyễn Văn Đức")
	e := &env{dataDir: dir}
	rp, err := e.open(context.Background())
	require.NoError(t, err)
	en, err := rp.Enrollment(context.Background())
	require.NoError(t, err)
	require.NoError(t, rp.Close())
	me := strings.ToUpper(en.MemberID)
	for _, args := range [][]string{
		{"report", "add", "--hamlet", "32002-01", "--category", "dien_chieu_sang", "--description", "Đèn hỏng", "--consent", "no", "--set", "volunteer_id=" + me},
		{"visit", "add", "--household", id, "--set", "household_id=" + strings.ToUpper(id)},
	} {
		r := cli(t, dir, args...)
		require.Equal(t, exitOK, r.code, "%q: %s", args, r.stderr)
	}
}

// TestSyncWordNotAnAddress: "sync now" is not a server address; the refusal
// must not tell the volunteer to run "enroll --server now".
func TestSyncWordNotAnAddress(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	for _, lang := range []string{"vi", "en"} {
		r := cli(t, dir, "sync", "now", "--lang", lang)
		require.Equal(t, exitUsage, r.code)
		require.NotContains(t, r.stderr, "--server now", lang)
	}
}
