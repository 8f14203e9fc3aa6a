package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A pull's batch names the conflicts the server logged on the rows a move
// logged again into the device's scope, whose winner it sends or sent the
// version over (Changes.Lost, PROTOCOL.md §5.6): a device that dropped
// such a row holding the loser learns it lost. A row written in scope all
// along names none: a device that held it met the winner as it came.
func TestPullNamesTheLossesAMoveBrings(t *testing.T) {
	ctx := context.Background()
	ts := servertest.Start(t)
	here, there := ts.HamletsA[0], ts.HamletsA[1]
	// The puller's team covers here alone; team A, whose volunteers write,
	// covers both.
	teamP, err := ts.Admin.CreateTeam(ctx, servertest.CommuneA, "Tổ CNTS Ấp 3", []string{here})
	require.NoError(t, err)
	lw := newLossWorld(t, ts)
	join, push := lw.join, lw.taken
	pulled := func() ([]syncproto.Change, []syncproto.LostWrite) {
		c := ts.Connect(t, ts.NewDevice(t, teamP.ID))
		var cs []syncproto.Change
		var ls []syncproto.LostWrite
		cursor := uint64(0)
		for {
			m, err := c.Pull(cursor, 0)
			require.NoError(t, err)
			cs, ls = append(cs, m.Changes...), append(ls, m.Lost...)
			if !m.More {
				return cs, ls
			}
			cursor = m.To
		}
	}

	a, b := join(0), join(time.Minute)
	moved, stayed := uuid.New(), uuid.New()
	for _, row := range []syncproto.RowID{moved, stayed} {
		hamlet := there
		if row == stayed {
			hamlet = here
		}
		created := a.w.Household(row, hamlet, "Trương Văn Bảy")
		push(a, created...)
		for _, c := range created {
			b.w.Saw(c)
		}
	}
	var want []syncproto.LostWrite
	for _, row := range []syncproto.RowID{moved, stayed} {
		hamlet := there
		if row == stayed {
			hamlet = here
		}
		mine := a.w.Write("households", row, "head_name", syncproto.String("Trương Văn Bẩy"), hamlet)
		push(a, mine)
		theirs := b.w.Write("households", row, "head_name", syncproto.String("Trương Văn Bảy (em)"), hamlet) // a minute ahead
		push(b, theirs)
		if row == moved {
			want = append(want, syncproto.LostWrite{Row: row, Field: "head_name", Loser: mine.Dot, Winner: theirs.Dot})
		}
	}
	_, lost := pulled()
	require.Empty(t, lost, "nothing moved: every loss was met as it came")

	push(b, b.w.Write("households", moved, "hamlet_code", syncproto.String(here), here))
	cs, lost := pulled()
	require.Equal(t, want, lost, "the move's re-log sends the winner and names what it beat")
	var names []syncproto.Value
	for _, c := range cs {
		if c.Row == moved && c.Field == "head_name" {
			names = append(names, c.Value)
		}
	}
	require.Equal(t, []syncproto.Value{syncproto.String("Trương Văn Bảy (em)")}, names, "the winner, once")
}
