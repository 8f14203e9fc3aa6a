package app

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
)

// A sync stopped on the marker whose file a repair replaced between the
// check that stopped it and the look after it (the session's close, the
// photos' transfer waited for: agent.Repair puts its file in place
// moments before it removes the marker) noted the file replaced already,
// so the replacement was no change, nor was anything after it: the page
// said to run the repair just run for as long as the app stayed open
// (helper 235). The race cannot be forced through the app's pages; the
// stopped sync's look is checked here, with what stopped it.
func TestStopOnTheMarkerOfAFileSinceReplacedLooksAgainOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "replica.db")
	r := agenttest.Open(t, path)
	a, err := New(Config{Replica: r, TokenPath: filepath.Join(dir, "token")})
	require.NoError(t, err)
	s := a.sync
	marked := &agent.FileError{Path: path, Kind: agent.ErrCorrupt}
	require.False(t, s.changedSince(ctx, marked)(), "stopped on the marker of the file as opened: nothing changed")

	// The repair's file takes the name.
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path+".repair", b, 0o600))
	require.NoError(t, os.Rename(path+".repair", path))
	require.True(t, r.Replaced())

	require.True(t, s.changedSince(ctx, marked)(), "stopped on the marker, the file replaced since: the sync looks again")
	require.False(t, s.changedSince(ctx, &agent.ReplacedError{Path: path})(), "stopped on the replaced file: it stays stopped")
	require.False(t, s.changedSince(ctx, marked)(), "once: not started again every few seconds")
}
