package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/i18n"
)

// TestSlowLinkBackfillOverSeveralSyncsSaysWhatItBrought: the team gains a
// hamlet of 2,000 households (20,000 field versions) while its laptop
// syncs over a link that drops every connection after some 20 KB down;
// the back-fill ends in the 4th sync. That sync must name the hamlet
// gained and count what the back-fill brought, not the last part alone
// under an empty list of hamlets.
func TestSlowLinkBackfillOverSeveralSyncsSaysWhatItBrought(t *testing.T) {
	t.Parallel() // it waits on the link more than it works
	_, _, l, gained := hamletGainedOverACuttingLink(t)

	var last result
	syncs := 0
	for i := 1; i <= 8; i++ {
		last = l.run("sync")
		syncs = i
		t.Logf("sync %d: exit %d\n%s%s", i, last.code, last.stdout, last.stderr)
		if last.code == 0 {
			break
		}
	}
	require.Equal(t, 0, last.code)
	require.Greater(t, syncs, 1, "the back-fill was cut at least once")
	require.Len(t, l.households(), 2000)
	require.Contains(t, last.stdout, gained, "the sync that ends the back-fill names the hamlet gained")
	m := regexp.MustCompile(`đã tải ([\d.]+) thay đổi`).FindStringSubmatch(last.stdout)
	require.NotNil(t, m, last.stdout)
	told, _ := strconv.Atoi(strings.ReplaceAll(m[1], ".", ""))
	require.GreaterOrEqual(t, told, 20000, "the back-fill brought the hamlet's 20,000 changes; told %s", m[1])
	require.Equal(t, i18n.Int(int64(told), "vi"), m[1], "the count is written as the CLI writes numbers (20.000)")
}
