package main

import (
	"database/sql"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/i18n"
)

// TestSlowLinkBackfillFromLogOverSeveralSyncsSaysWhatItBrought: as
// TestSlowLinkBackfillOverSeveralSyncsSaysWhatItBrought, from a server of
// a release without snapshots (the laptop noted it, snapshot_unsupported):
// the back-fill replays the gained hamlet's log (backfillLog), cut over
// several connections (the sync's retries, or several syncs). The sync that ends it named no hamlet and counted its
// last page alone ("Tổ được giao thêm ấp/khóm : đã tải 10.000 thay đổi").
func TestSlowLinkBackfillFromLogOverSeveralSyncsSaysWhatItBrought(t *testing.T) {
	t.Parallel()
	// The log's pages are the server's (10,000 changes, some 67 KB): a
	// link cutting every connection after 90 KB down carries one a sync;
	// one cutting after 20 KB carried none, and the back-fill never ended
	// until the laptop asked for smaller pages after a cut.
	for _, cutAt := range []int64{90000, 20000} {
		t.Run(strconv.FormatInt(cutAt, 10), func(t *testing.T) {
			t.Parallel() // it waits on the link more than it works
			backfillFromLogOverACuttingLink(t, cutAt)
		})
	}
}

func backfillFromLogOverACuttingLink(t *testing.T, cutAt int64) {
	_, link, l, gained := hamletGainedOverACuttingLink(t)
	link.Cuts = func(int64) (int64, int64) { return 0, cutAt }
	db, err := sql.Open("sqlite", "file:"+filepath.Join(l.dir, "replica.db")+"?_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	_, err = db.Exec(`INSERT OR REPLACE INTO agent_meta (key, value) VALUES ('snapshot_unsupported', 1)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	var last result
	conns := link.Conns()
	for i := 1; i <= 12; i++ {
		last = l.run("sync")
		t.Logf("sync %d: exit %d, %d connections\n%s%s", i, last.code, link.Conns()-conns, last.stdout, last.stderr)
		if last.code == 0 {
			break
		}
	}
	require.Equal(t, 0, last.code, "the back-fill ended within 12 syncs")
	require.Greater(t, link.Conns()-conns, int64(1), "the back-fill was cut at least once")
	require.Len(t, l.households(), 2000)
	require.Contains(t, last.stdout, gained, "the sync that ends the back-fill names the hamlet gained")
	m := regexp.MustCompile(`đã tải ([\d.]+) thay đổi`).FindStringSubmatch(last.stdout)
	require.NotNil(t, m, last.stdout)
	told, _ := strconv.Atoi(strings.ReplaceAll(m[1], ".", ""))
	require.GreaterOrEqual(t, told, 20000, "the back-fill brought the hamlet's 20,000 changes; told %s", m[1])
	require.Equal(t, i18n.Int(int64(told), "vi"), m[1], "the count is written as the CLI writes numbers (20.000)")
}
