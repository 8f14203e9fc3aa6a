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
	lw := newLossWorld(t, ts)
	join, push, chunkAt := lw.join, lw.push, lw.chunkAt
	h := ts.HamletsA[0]
	row := uuid.New()
	head := func(v volunteer, name string) syncproto.Change {
		return v.w.Write("households", row, "head_name", syncproto.String(name), h)
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
	lw := newLossWorld(t, ts)
	join, push := lw.join, lw.taken
	h := ts.HamletsA[0]

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

	chunk := lw.chunkAt(head)
	require.True(t, chunk.More, "cut at the frame")
	require.Less(t, len(chunk.Rows), 21*3, "cut at the frame")
	for _, r := range chunk.Rows {
		require.NotEqual(t, first, r.Row, "every field of it is left out for the pull")
	}
	require.Equal(t, []syncproto.LostWrite{{Row: first, Field: "head_name", Loser: mine.Dot, Winner: theirs.Dot}}, chunk.Lost,
		"the chunk names the loss on the household it sends nothing of")
}

// lossWorld is a server whose team A volunteers write, each on a device of
// its own, with clocks set apart from one start.
type lossWorld struct {
	t     *testing.T
	ts    *servertest.TS
	start time.Time
	batch uint64
}

type volunteer struct {
	c *servertest.Client
	w *servertest.Writer
}

func newLossWorld(t *testing.T, ts *servertest.TS) *lossWorld {
	return &lossWorld{t: t, ts: ts, start: time.Now()}
}

// join enrolls a volunteer of team A whose clock reads ahead of the start.
func (lw *lossWorld) join(ahead time.Duration) volunteer {
	d := lw.ts.NewDevice(lw.t, lw.ts.TeamA)
	return volunteer{lw.ts.Connect(lw.t, d), servertest.NewWriter(d.Replica, func() time.Time { return lw.start.Add(ahead) })}
}

// push pushes cs in a batch of their own and returns the Ack.
func (lw *lossWorld) push(v volunteer, cs ...syncproto.Change) *syncproto.Ack {
	lw.batch++
	ack, err := v.c.Push(lw.batch, cs)
	require.NoError(lw.t, err)
	return ack
}

// taken pushes cs and requires the server to take every one.
func (lw *lossWorld) taken(v volunteer, cs ...syncproto.Change) {
	for _, r := range lw.push(v, cs...).Results {
		require.Equal(lw.t, syncproto.ResultApplied, r.Status, "%+v", r)
	}
}

// chunkAt asks a fresh device of team A for the first chunk of a snapshot
// at head (0: the log's head).
func (lw *lossWorld) chunkAt(head uint64) *syncproto.SnapshotChunk {
	c := lw.ts.Connect(lw.t, lw.ts.NewDevice(lw.t, lw.ts.TeamA))
	require.NoError(lw.t, c.Send(&syncproto.SnapshotRequest{Head: head}))
	m, err := c.RecvAnswer()
	require.NoError(lw.t, err)
	chunk, ok := m.(*syncproto.SnapshotChunk)
	require.True(lw.t, ok, "want a snapshot chunk, got %#v", m)
	return chunk
}
