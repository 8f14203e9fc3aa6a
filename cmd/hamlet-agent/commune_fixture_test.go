package main

import (
	"errors"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// The tests of a first clone killed mid-clone each seeded their own server
// with the same commune (seedCommuneRows: 10,400 rows pushed by another
// device), some 1.7 CPU-seconds of the server's commits a seeding, ten
// times a run. The commune is seeded once per test process instead, by the
// same pushes to a real server, which is then stopped; each test starts a
// server of its own on a copy of that folder (a restart the server must
// take in any case), so what one test does reaches no other. The
// PostgreSQL case of TestKilledCloneTeammateMoves seeds its own store.

var communeBuild struct {
	once sync.Once
	dir  string   // the stopped server's data folder
	ids  []string // the commune's households, as seedCommuneRows returns them
	err  error
}

// seededCommune starts a server on a copy of the seeded commune's folder
// and returns it with the commune's household ids (the test's own copy).
func seededCommune(t *testing.T) (*servertest.TS, []string) {
	t.Helper()
	communeBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "hamlet-commune-")
		if err != nil {
			communeBuild.err = err
			return
		}
		communeBuild.dir, communeBuild.err = dir, errCommuneUnbuilt
		// Built under the first test that asks, which fails if the seeding
		// does; the others then fail on communeBuild.err.
		ts := servertest.Start(t, servertest.WithDataDir(dir))
		ids := seedCommuneRows(t, ts, cutHouseholds, cutVisits, cutTutoring, cutReports)
		ts.Close()
		communeBuild.ids, communeBuild.err = ids, nil
	})
	require.NoError(t, communeBuild.err, "seed the commune")
	return startOnCopy(t, communeBuild.dir), slices.Clone(communeBuild.ids)
}

// errCommuneUnbuilt stays in communeBuild.err when the seeding stopped the
// test that ran it.
var errCommuneUnbuilt = errors.New("the seeded commune was not built: see the first test that built it")
