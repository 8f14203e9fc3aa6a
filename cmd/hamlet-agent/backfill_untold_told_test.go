package main

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A back-fill that ended in a sync cut afterwards (agent_meta
// backfill_untold, as 1563b2d leaves it) is told by the next sync that ends
// well: the hamlet gained and what it brought, in the text the volunteer
// reads, and once only.
func TestBackfillUntoldToldInTextOnce(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	l.must("sync")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(l.dir, "replica.db")+"?_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	_, err = db.Exec(`INSERT OR REPLACE INTO agent_meta (key, value) VALUES ('backfill_untold', ?)`,
		`{"hamlets":["`+ts.OtherHamletA+`"],"total":20000}`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	first := l.must("sync").stdout
	t.Logf("first sync after the cut:\n%s", first)
	require.Contains(t, first, ts.OtherHamletA, "the sync after the cut names the hamlet gained")
	second := l.must("sync").stdout
	require.NotContains(t, second, ts.OtherHamletA, "told once")
}
