package server_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A snapshot chunk leaves out the fields logged above the snapshot's head
// (the pull from the head brings them). The store stops a page at the
// chunk's field budget (MaxChanges) and returns the row that passed it,
// which the chunk leaves for the next one. Counted by the fields sent,
// with a teammate's edits left out that row fitted, the chunk said no
// More though rows were left, and the clone ended there: a laptop whose
// clone resumed after teammates wrote held a fifth of its commune, and
// told the volunteer the download was complete. A teammate writes, after
// the head, to households the chunk after the next holds (the next may
// have been read ahead already): the phone of twenty, or every field of
// 300 (a whole chunk's worth and more: rows of which the chunks send
// nothing, left out whole).
func TestSnapshotChunkLeavingOutFieldsAboveTheHeadStillSaysMore(t *testing.T) {
	for _, tc := range []struct {
		name      string
		rows      int  // households written over, from the chunk after the next
		wholeRows bool // every field of them, else their phone
	}{
		{"a phone of twenty households", 20, false},
		{"every field of 300 households", 300, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := servertest.Start(t)
			h := ts.HamletsA[0]
			writer := ts.NewDevice(t, ts.TeamA)
			w := ts.Connect(t, writer)
			wr := servertest.NewWriter(writer.Replica, nil)
			const households = 5000 // ten fields each: a page stops at the budget
			written := servertest.HouseholdChanges(wr, h, households*10)
			require.NoError(t, w.PushAll(written, 2000, 4))
			var all []syncproto.RowID
			byRow := map[syncproto.RowID][]syncproto.Change{}
			for _, c := range written {
				if c.Field == "hamlet_code" {
					all = append(all, c.Row)
				}
				byRow[c.Row] = append(byRow[c.Row], c)
			}
			slices.SortFunc(all, func(a, b syncproto.RowID) int { return slices.Compare(a[:], b[:]) })

			cloner := ts.NewDevice(t, ts.TeamA)
			c := ts.Connect(t, cloner)
			ask := func(head uint64, after syncproto.SnapshotPos) *syncproto.SnapshotChunk {
				t.Helper()
				require.NoError(t, c.Send(&syncproto.SnapshotRequest{Head: head, After: after}))
				m, err := c.RecvAnswer()
				require.NoError(t, err)
				ch, ok := m.(*syncproto.SnapshotChunk)
				require.True(t, ok, "want a snapshot chunk, got %#v", m)
				return ch
			}
			first := ask(0, syncproto.SnapshotPos{})
			require.True(t, first.More)
			seen := map[syncproto.RowID]bool{}
			for _, r := range first.Rows {
				seen[r.Row] = true
			}

			next := slices.IndexFunc(all, func(id syncproto.RowID) bool { return id == first.To.Row }) + 1
			require.Positive(t, next)
			over := all[2*next+100 : 2*next+100+tc.rows]
			var edits []syncproto.Change
			for _, id := range over {
				if !tc.wholeRows {
					edits = append(edits, wr.Write("households", id, "phone", syncproto.String("0912345678"), h))
					continue
				}
				for _, c := range byRow[id] {
					edits = append(edits, wr.Write("households", id, c.Field, c.Value, h))
				}
			}
			require.NoError(t, w.PushAll(edits, 2000, 1))

			chunks := 1
			for ch := first; ch.More; chunks++ {
				require.Less(t, chunks, 1000, "the snapshot ends")
				ch = ask(first.Head, ch.To)
				for _, r := range ch.Rows {
					seen[r.Row] = true
				}
			}
			if tc.wholeRows {
				// Left out whole (the pull from the head brings them);
				// every other row is there, and the walk ended.
				for _, id := range over {
					require.False(t, seen[id])
					seen[id] = true
				}
			}
			require.Equal(t, households, len(seen), "the snapshot holds every household (%d chunks)", chunks)
		})
	}
}
