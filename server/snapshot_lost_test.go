package server_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A snapshot chunk names the conflicts the server logged on its rows whose
// winner it sends or sent the version over (SnapshotChunk.Lost, PROTOCOL.md
// §16.3): a laptop holding the loser learns it lost. A winner written over
// twice is named while its conflict is the field's last (the versions since
// descend from it, LostWrite.NamedAfter; issue 17, seed 8500139), and left
// out once another conflict is logged there: the client could no longer
// tell its loser from a version written over on another branch. A chunk
// that leaves the field out for the pull from its head names it too.
func TestChunkNamesTheLossesItsVersionsTell(t *testing.T) {
	ts := servertest.Start(t)
	h := ts.HamletsA[0]
	row := uuid.New()
	start := time.Now()
	type volunteer struct {
		c *servertest.Client
		w *servertest.Writer
	}
	var batch uint64
	join := func(ahead time.Duration) volunteer {
		d := ts.NewDevice(t, ts.TeamA)
		return volunteer{ts.Connect(t, d), servertest.NewWriter(d.Replica, func() time.Time { return start.Add(ahead) })}
	}
	push := func(v volunteer, cs ...syncproto.Change) *syncproto.Ack {
		batch++
		ack, err := v.c.Push(batch, cs)
		require.NoError(t, err)
		return ack
	}
	head := func(v volunteer, name string) syncproto.Change {
		return v.w.Write("households", row, "head_name", syncproto.String(name), h)
	}
	chunkAt := func(head uint64) *syncproto.SnapshotChunk {
		c := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
		require.NoError(t, c.Send(&syncproto.SnapshotRequest{Head: head}))
		m, err := c.RecvAnswer()
		require.NoError(t, err)
		chunk, ok := m.(*syncproto.SnapshotChunk)
		require.True(t, ok, "want a snapshot chunk, got %#v", m)
		return chunk
	}
	lost := func() []syncproto.LostWrite { return chunkAt(0).Lost }

	a, b := join(0), join(time.Minute)
	created := a.w.Household(row, h, "Trương Văn Bảy")
	push(a, created...)
	for _, c := range created {
		b.w.Saw(c)
	}
	require.Empty(t, lost(), "no conflict logged")

	mine := head(a, "Trương Văn Bẩy")
	require.Equal(t, syncproto.ResultApplied, push(a, mine).Results[0].Status, "the server takes her correction")
	theirs := head(b, "Trương Văn Bảy (em)") // over the name both started from, a minute ahead
	require.Equal(t, syncproto.ResultApplied, push(b, theirs).Results[0].Status, "the teammate's beats it")
	want := []syncproto.LostWrite{{Row: row, Field: "head_name", Loser: mine.Dot, Winner: theirs.Dot}}
	require.Equal(t, want, lost(), "the chunk sends the winner and names what it beat")

	atWinner, err := ts.Store.Head(t.Context())
	require.NoError(t, err)

	c := join(2 * time.Minute)
	c.w.Saw(theirs)
	over := head(c, "Trương Văn Bảy Em")
	push(c, over)
	require.Equal(t, want, lost(), "the chunk sends a version written over the winner")

	d := join(3 * time.Minute)
	d.w.Saw(over)
	again := head(d, "Trương Văn Bảy Em (út)")
	push(d, again)
	require.Equal(t, want, lost(), "written over twice, no conflict since: the versions descend from the winner")
	// A snapshot whose head is below those writes (a back-fill at a
	// laptop's cursor) leaves the field out for the pull from its head,
	// which cannot tell the loss: the chunk names it (stop 66's note).
	back := chunkAt(atWinner)
	for _, c := range back.Rows {
		require.NotEqual(t, "head_name", c.Field, "the pull from the head brings the writes over the winner")
	}
	require.NotEmpty(t, back.Rows, "the chunk sends the household's other fields")
	require.Equal(t, want, back.Lost, "the chunk names the loss on the field it leaves out")

	e := join(4 * time.Minute)
	for _, c := range created {
		e.w.Saw(c)
	}
	other := head(e, "Trương Thị Bảy") // over the name they all started from: beats the last
	require.Equal(t, syncproto.ResultApplied, push(e, other).Results[0].Status)
	require.Equal(t, []syncproto.LostWrite{{Row: row, Field: "head_name", Loser: again.Dot, Winner: other.Dot}}, lost(),
		"another conflict since: the first is no longer named, the new one is")
}

// A chunk too large for a frame is cut at a row boundary; its Lost keeps
// the entries of a row before the cut that it sends nothing of (every
// field written after the head, left out for the pull). Cut to the rows
// still sent, the entry went, and the next chunk, which starts after the
// cut, never named the loss again.
func TestChunkCutAtAFrameKeepsTheLossesOfRowsLeftOutWhole(t *testing.T) {
	lim := syncproto.DefaultLimits
	lim.MaxFrame = 8 << 10
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Limits = lim }))
	h := ts.HamletsA[0]
	start := time.Now()
	var batch uint64
	type volunteer struct {
		c *servertest.Client
		w *servertest.Writer
	}
	join := func(ahead time.Duration) volunteer {
		d := ts.NewDevice(t, ts.TeamA)
		return volunteer{ts.Connect(t, d), servertest.NewWriter(d.Replica, func() time.Time { return start.Add(ahead) })}
	}
	push := func(v volunteer, cs ...syncproto.Change) {
		batch++
		ack, err := v.c.Push(batch, cs)
		require.NoError(t, err)
		for _, r := range ack.Results {
			require.Equal(t, syncproto.ResultApplied, r.Status, "%+v", r)
		}
	}

	// The household with the conflict sorts first; twenty after it, with
	// long notes, make the first chunk larger than a frame.
	first := uuid.MustParse("00000000-0000-4000-8000-000000000001")
	a, b := join(0), join(time.Minute)
	created := a.w.Household(first, h, "Trương Văn Bảy")
	push(a, created...)
	long := strings.TrimSpace(strings.Repeat("Ghi chu dai ve ho gia dinh. ", 60)[:1500])
	for i := range 20 { // one a batch: a push is a frame too
		row := uuid.MustParse(fmt.Sprintf("10000000-0000-4000-8000-%012d", i))
		push(a, append(a.w.Household(row, h, "Hộ "+strconv.Itoa(i)), a.w.Write("households", row, "notes", syncproto.String(long), h))...)
	}
	for _, c := range created {
		b.w.Saw(c)
	}
	mine := a.w.Write("households", first, "head_name", syncproto.String("Trương Văn Bẩy"), h)
	push(a, mine)
	theirs := b.w.Write("households", first, "head_name", syncproto.String("Trương Văn Bảy (em)"), h)
	push(b, theirs) // a minute ahead, over the name both started from: hers lost
	head, err := ts.Store.Head(t.Context())
	require.NoError(t, err)

	// Every field of it written after the head, over the winner.
	b.w.Saw(mine)
	push(b, b.w.Write("households", first, "hamlet_code", syncproto.String(h), h),
		b.w.Write("households", first, "head_name", syncproto.String("Trương Văn Bảy Em"), h))

	c := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	require.NoError(t, c.Send(&syncproto.SnapshotRequest{Head: head}))
	m, err := c.RecvAnswer()
	require.NoError(t, err)
	chunk, ok := m.(*syncproto.SnapshotChunk)
	require.True(t, ok, "want a snapshot chunk, got %#v", m)
	require.True(t, chunk.More, "cut at the frame")
	require.Less(t, len(chunk.Rows), 21*3, "cut at the frame")
	for _, r := range chunk.Rows {
		require.NotEqual(t, first, r.Row, "every field of it is left out for the pull")
	}
	require.Equal(t, []syncproto.LostWrite{{Row: first, Field: "head_name", Loser: mine.Dot, Winner: theirs.Dot}}, chunk.Lost,
		"the chunk names the loss on the household it sends nothing of")
}
