package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// The operator's command line commits to the store while sessions are
// open (another process on the same SQLite file): the server, finding the
// commit, tells every session the log's head, grown or not. A session that
// had not pulled, its agent holding the head its Welcome named, was sent a
// Notify at that head, which the agent ignores (it pulls when
// Notify.Cursor is above its cursor, PROTOCOL.md §7.3); the server then
// waited for that pull's answer before it announced anything more, and
// the session heard of no teammate's change until it reconnected: an app
// left open, up to date when it opened, for as long as it stayed open.
func TestForeignCommitKeepsAnIdleSessionNotified(t *testing.T) {
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.RevokeCheck = -1 }))
	ctx := context.Background()
	devA := ts.NewDevice(t, ts.TeamA)
	a := ts.Connect(t, devA)
	w := servertest.NewWriter(devA.Replica, nil)
	_, err := a.Push(1, w.Household(uuid.New(), ts.HamletsA[0], "Hộ thử"))
	require.NoError(t, err)
	b := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	held := b.Welcome.Cursor // its agent holds the log up to here, and does not pull
	require.Positive(t, held)

	// A commit that logs nothing: another team's hamlet.
	cli, err := servertest.Open(ctx, ts.DataDir, "", server.Config{Logger: servertest.Logger(), GCInterval: -1, RevokeCheck: -1})
	require.NoError(t, err)
	changed, err := cli.Admin().RemoveTeamHamlet(ctx, ts.TeamB, ts.HamletsB[0])
	require.NoError(t, err)
	require.True(t, changed)
	require.NoError(t, cli.Close())
	// The server finds it at its next pull or commit: here, a's idle pull.
	_, err = a.Pull(held, 0)
	require.NoError(t, err)

	_, err = a.Push(2, w.Household(uuid.New(), ts.HamletsA[0], "Hộ thử hai"))
	require.NoError(t, err)
	for {
		n, err := b.WaitNotify(30 * time.Second)
		require.NoError(t, err)
		require.NotZero(t, n, "the session was never told of the teammate's second household")
		if n > held {
			break
		}
		t.Logf("Notify at %d, which the agent holds (Welcome: %d): ignored", n, held)
	}
}
