package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestSeveralHamletsLostNamed (helper 221): the team gains a hamlet after
// the laptop's enrollment (named by the roster the sync fetches), then
// loses it and one it had from the start, at once. The sync names both as
// the volunteer knows them, in her language; a refused edit made in one of
// them after names it too; told once.
func TestSeveralHamletsLostNamed(t *testing.T) {
	t.Parallel() // each builds its own server and laptops
	for _, c := range []struct{ lang, lost string }{
		{"", "Tổ không còn phụ trách ấp/khóm "},
		{"en", "Your team no longer covers hamlet(s) "},
	} {
		t.Run("lang="+c.lang, func(t *testing.T) {
			ctx := context.Background()
			ts := servertest.Start(t)
			l := newLaptop(t, t.TempDir())
			l.lang = c.lang
			l.enroll(ts)
			_, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, ts.OtherHamletA)
			require.NoError(t, err)
			l.must("sync") // the laptop learns the hamlet gained, the roster names it
			gained := l.mustAdd(ts.OtherHamletA, "Lê Văn Gained")
			l.mustAdd(ts.HamletsA[1], "Trần Thị Hai")
			l.must("sync")
			names := map[string]string{}
			for _, h := range []string{ts.HamletsA[1], ts.OtherHamletA} {
				names[h] = enrolledHamletName(t, l, h) + " (" + h + ")"
			}
			for _, h := range []string{ts.HamletsA[1], ts.OtherHamletA} {
				_, err := ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, h)
				require.NoError(t, err)
			}
			l.must("household", "edit", gained, "--phone", "0911111111") // offline, after the removal
			r := l.must("sync")
			t.Logf("sync:\n%s%s", r.stdout, r.stderr)
			i := strings.Index(r.stdout, c.lost)
			require.GreaterOrEqual(t, i, 0)
			line, _, _ := strings.Cut(r.stdout[i:], "\n")
			for _, n := range names {
				require.Contains(t, line, n)
			}
			rej := l.must("rejected").stdout
			t.Logf("rejected:\n%s", rej)
			require.Contains(t, rej, names[ts.OtherHamletA])
			r = l.must("sync")
			require.NotContains(t, r.stdout, c.lost, "told once")
		})
	}
}
