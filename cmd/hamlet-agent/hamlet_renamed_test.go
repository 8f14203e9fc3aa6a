package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A hamlet renamed on the server (unit add-hamlets --file, which renames
// an existing code) reached a laptop only with a sync that brought rows:
// the roster, which names the scope's hamlets, was fetched only then, so
// a team whose hamlet saw no other laptop's change showed the old name in
// status and in the app for good. A no-op sync keeps to one round trip
// (issue 20), but a roster older than agent.RosterMaxAge is fetched again:
// the new name is there by the first sync a few hours on.
func TestRenamedHamletReachesTheLaptop(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	l := newLaptop(t, t.TempDir())
	l.lang = "en"
	l.must("enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA), "--label", "Laptop A")
	l.must("sync")
	code := ts.HamletsA[0]
	require.NotContains(t, l.must("status").stdout, "Khóm Kênh Mới")

	_, err := ts.Admin.ImportHamlets(context.Background(), []schema.AdminUnit{{Code: code, Name: "Khóm Kênh Mới", Type: "khom", Level: schema.LevelHamlet}})
	require.NoError(t, err)
	l.must("sync") // nothing to bring
	l.env = []string{"HAMLET_CLOCK_SHIFT=+7h", "HAMLET_TEST=1"}
	l.must("sync") // still nothing to bring, hours later
	require.Contains(t, l.must("status").stdout, code+" Khóm Kênh Mới", "the laptop shows the hamlet's new name")
}
