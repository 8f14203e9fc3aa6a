package main

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestBackfillLostMidwayNotCountedForTheRest: the team gains two hamlets,
// h3 (300 households: 3,000 field versions) and h4 (20: 200), and their
// back-fill is cut part-way on a link that drops (its first chunks stored,
// then every connection cut when it asks for the next). Before it ends,
// the team loses h3. The sync that ends it told "Tổ được giao thêm ấp/khóm
// 32002-04: đã tải N thay đổi", N counting the changes of h3 that the
// first chunks brought: more than h4 holds. A back-fill that lost a hamlet
// before it was told names the rest without a count (FilledPart), whether
// it ended before the loss or after.
func TestBackfillLostMidwayNotCountedForTheRest(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ lang, gained string }{
		{"", gainedLine},
		{"en", "Your team gained hamlet(s)"},
	} {
		t.Run("lang="+c.lang, func(t *testing.T) {
			ts := servertest.Start(t)
			h3, h4 := ts.OtherHamletA, schema.HamletCode(servertest.CommuneA, 4)
			otherTeamHolds(t, ts, []string{h3, h4}, 300, 20)

			// mode 1: every back-fill request is cut (the link carries no
			// chunk: the agent asks for smaller ones); mode 2: every one
			// but a back-fill's first (its first chunk stored, then cut).
			var mode atomic.Int32
			url := cutProxy(t, ts.URL[len("http://"):], func(m syncproto.Message) bool {
				req, ok := m.(*syncproto.SnapshotRequest)
				if !ok || len(req.Scopes) == 0 {
					return false
				}
				switch mode.Load() {
				case 1:
					return true
				case 2:
					return !req.After.IsZero()
				}
				return false
			})
			l := newLaptop(t, t.TempDir())
			l.lang = c.lang
			l.must("enroll", "--server", url, "--code", ts.EnrollCode(t, ts.TeamA))
			l.must("sync")

			for _, h := range []string{h3, h4} {
				changed, err := ts.Admin.AddTeamHamlet(context.Background(), ts.TeamA, h)
				require.NoError(t, err)
				require.True(t, changed)
			}
			mode.Store(1)
			r := l.run("sync")
			t.Logf("sync, every chunk cut: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.NotEqual(t, 0, r.code)
			mode.Store(2)
			r = l.run("sync")
			t.Logf("sync, cut after the first chunk: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.NotEqual(t, 0, r.code)
			part := len(l.households())
			require.Greater(t, part, 0, "a part of the back-fill was stored")
			require.Less(t, part, 300+20, "and not all of it")

			changed, err := ts.Admin.RemoveTeamHamlet(context.Background(), ts.TeamA, h3)
			require.NoError(t, err)
			require.True(t, changed)
			mode.Store(0)
			out := l.must("sync").stdout
			t.Logf("sync after the loss:\n%s", out)
			i := strings.Index(out, c.gained)
			require.GreaterOrEqual(t, i, 0, "the hamlet still gained is told:\n%s", out)
			line, _, _ := strings.Cut(out[i:], "\n")
			require.Contains(t, line, h4)
			require.NotContains(t, line, h3)
			if m := regexp.MustCompile(`(?:đã tải|fetched) ([\d.,]+)`).FindStringSubmatch(line); m != nil {
				n, err := strconv.Atoi(strings.NewReplacer(".", "", ",", "").Replace(m[1]))
				require.NoError(t, err, line)
				require.LessOrEqual(t, n, 20*10, "the count told for %s holds %s's changes: %q", h4, h3, line)
			}
			require.NotContains(t, l.must("sync").stdout, c.gained, "told once")
		})
	}
}
