package main

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSlowLinkBackfillChunksGrowBackOnceTheLinkHolds: the team gains a
// hamlet of 2,000 households over a link that drops its first five
// connections after 3 KB down, then holds. The back-fill asks for smaller
// chunks after each cut, down to 50 rows; once chunks arrive whole again
// it must ask for more, as a clone does. backfillFrom counted its whole
// chunks on the pull's limit (s.pullLimit.received), not on the chunks'
// (s.limit): the rest of the hamlet came 50 rows a round trip, and so did
// every back-fill and clone after it (clone_limit stayed 50).
func TestSlowLinkBackfillChunksGrowBackOnceTheLinkHolds(t *testing.T) {
	t.Parallel() // it waits on the link more than it works
	_, link, l, _ := hamletGainedOverACuttingLink(t)
	base := link.Conns()
	link.Cuts = func(n int64) (int64, int64) {
		if n-base <= 5 {
			return 0, 3000
		}
		return 0, 0
	}
	var last result
	for i := 1; i <= 4; i++ {
		last = l.run("sync", "--json")
		t.Logf("sync %d: exit %d, %d connections\n%s%s", i, last.code, link.Conns()-base, last.stdout, last.stderr)
		if last.code == 0 {
			break
		}
	}
	require.Equal(t, 0, last.code, "the back-fill ended once the link held")
	require.Len(t, l.households(), 2000)

	var sum struct {
		RoundTrips int `json:"round_trips"`
	}
	require.NoError(t, json.Unmarshal([]byte(last.stdout), &sum), last.stdout)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(l.dir, "replica.db")+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	var limit sql.NullInt64
	err = db.QueryRow(`SELECT value FROM agent_meta WHERE key = 'clone_limit'`).Scan(&limit)
	if err != sql.ErrNoRows {
		require.NoError(t, err)
	}
	t.Logf("round trips of the sync on the link that held: %d; clone_limit after: %v", sum.RoundTrips, limit)
	require.Less(t, sum.RoundTrips, 25, "chunks grew back as they arrived whole (2,000 households at 50 rows a chunk are 40 round trips)")
	require.True(t, !limit.Valid || limit.Int64 == 0 || limit.Int64 > 50, "the chunk limit grew back from the floor: %v", limit)
}
