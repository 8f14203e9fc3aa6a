package main

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// `hamlet-server gc` drops the log below what every device holds unless
// told to keep it (--truncate-log=false, HAMLET_TRUNCATE_LOG=0): on by
// default since issue 17's simulation passed 100,000 schedules with it on.
func TestGCTruncatesTheLogByDefault(t *testing.T) {
	t.Setenv("HAMLET_TRUNCATE_LOG", "")
	ts := servertest.Start(t)
	dev := ts.NewDevice(t, ts.TeamA)
	c := ts.Connect(t, dev)
	w := servertest.NewWriter(dev.Replica, nil)
	hamlet := ts.HamletsA[0]
	row := uuid.New()
	_, err := c.Push(1, []syncproto.Change{
		w.Write("households", row, "hamlet_code", syncproto.String(hamlet), hamlet),
		w.Write("households", row, "head_name", syncproto.String("Lê Thị Hoa"), hamlet),
	})
	require.NoError(t, err)
	_, _, to, err := c.PullAll(0)
	require.NoError(t, err)
	require.NoError(t, c.Send(&syncproto.Pull{Cursor: to, Durable: to})) // the device holds the whole log
	_, err = c.RecvAnswer()
	require.NoError(t, err)
	require.NoError(t, c.Close())
	ts.Close()

	gc := func(args ...string) server.GCStats {
		t.Helper()
		code, out, errOut := cli(t, ts.DataDir, append([]string{"gc", "--json"}, args...)...)
		require.Equal(t, 0, code, errOut)
		var st server.GCStats
		require.NoError(t, json.Unmarshal([]byte(out), &st), out)
		return st
	}
	require.Zero(t, gc("--truncate-log=false").Truncated, "--truncate-log=false keeps the log")
	t.Setenv("HAMLET_TRUNCATE_LOG", "0")
	require.Zero(t, gc().Truncated, "HAMLET_TRUNCATE_LOG=0 keeps the log")
	t.Setenv("HAMLET_TRUNCATE_LOG", "")
	require.Equal(t, 2, gc().Truncated, "by default the entries every device holds are dropped")
}
