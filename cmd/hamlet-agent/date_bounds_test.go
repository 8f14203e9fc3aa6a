package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDateLowerBoundIsTheSchemas: the only lower bound on dates is the
// schema's (a date's year from 1900, schema/normalize.go checkDate and
// docs/PROTOCOL.md §17.2; a time from 2000-01-01); DESIGN.md sets no other.
// Every date the CLI takes applies it alike: 1900-01-01 is a valid date,
// the day before is not.
func TestDateLowerBoundIsTheSchemas(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	id := addHH(t, dir, "Nguyễn Văn Đức")
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"visit", "add", "--household", id, "--date", "1900-01-01"}, exitOK},
		{[]string{"visit", "add", "--household", id, "--date", "31/12/1899"}, exitError},
		{[]string{"tutor", "add", "--household", id, "--skill", "vneid_install", "--date", "01/01/1900"}, exitOK},
		{[]string{"tutor", "add", "--household", id, "--skill", "vneid_install", "--date", "1899-12-31"}, exitError},
		{[]string{"household", "add", "--hamlet", "32002-01", "--head", "Lê Văn A", "--registered-on", "1900-01-01"}, exitOK},
		{[]string{"household", "add", "--hamlet", "32002-01", "--head", "Lê Văn A", "--registered-on", "1899-12-31"}, exitError},
		{[]string{"report", "add", "--household", id, "--category", "dien_chieu_sang", "--description", "x", "--occurred-at", "2000-01-01 10:00"}, exitOK},
		{[]string{"report", "add", "--household", id, "--category", "dien_chieu_sang", "--description", "x", "--occurred-at", "1999-12-31 10:00"}, exitError},
	} {
		r := cli(t, dir, c.args...)
		require.Equal(t, c.code, r.code, "%q: %s", c.args, r.stderr)
	}
}
