package syncproto

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

func TestSnapshotMessagesRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	row := uuid.New()
	msgs := []Message{
		&SnapshotRequest{},
		&SnapshotRequest{Head: 900, After: SnapshotPos{Table: "households", Row: row}, Limit: 500, Scopes: []string{"32002-01"}},
		&SnapshotChunk{Head: 900, Total: 12345, To: SnapshotPos{Table: "visits", Row: row}, More: true, Rows: sampleChanges(rng, 300)},
		&SnapshotChunk{Head: 900, From: SnapshotPos{Table: "visits", Row: row}, To: SnapshotPos{Table: "visits", Row: row}},
		&SnapshotChunk{Head: 900, To: SnapshotPos{Table: "visits", Row: row}, Rows: sampleChanges(rng, 3), Lost: []LostWrite{
			{Row: row, Field: "notes", Loser: Dot{Replica: uuid.New(), Seq: 7}, Winner: Dot{Replica: uuid.New(), Seq: 1 << 40}},
			{Row: row, Field: "visit_date", Loser: Dot{Replica: uuid.New(), Seq: 1}, Winner: Dot{Replica: uuid.New(), Seq: 2}},
		}},
		&Welcome{Protocol: 1, Schema: 3, Scope: []string{"a"}, Cursor: 5, Reclone: true},
	}
	for _, m := range msgs {
		t.Run(m.Type().String(), func(t *testing.T) {
			frame, err := Encode(nil, m)
			require.NoError(t, err)
			got, err := Decode(frame, DefaultLimits)
			require.NoError(t, err)
			if c, ok := got.(*SnapshotChunk); ok && len(c.Rows) == 0 {
				c.Rows = nil
			}
			require.Equal(t, m, got)
		})
	}
}

// An agent of the previous release sends a 14-element Welcome: it decodes
// with Reclone false; and a 15-element one decodes on a decoder that only
// reads 14 (skipRest), which is what an old agent does.
func TestWelcomeWithoutRecloneDecodes(t *testing.T) {
	var buf []byte
	b, err := msgpack.Marshal([]any{uint8(MsgWelcome), 1, 3, 2, make([]byte, 16), 0, 0, 0, []string{"x"}, 0, 7, 100, 100, nil})
	require.NoError(t, err)
	buf = append(buf, b...)
	m, err := Decode(buf, DefaultLimits)
	require.NoError(t, err)
	require.False(t, m.(*Welcome).Reclone)
	require.Equal(t, uint64(7), m.(*Welcome).Cursor)
}

func TestSnapshotBadPositionIsRefused(t *testing.T) {
	b, err := msgpack.Marshal([]any{uint8(MsgSnapshotRequest), 0, []any{"households"}, 0, []string{}, nil})
	require.NoError(t, err)
	_, err = Decode(b, DefaultLimits)
	require.Error(t, err)
	var pe *Error
	require.ErrorAs(t, err, &pe)
	require.Equal(t, CodeBadFrame, pe.Code)
}

// A chunk's or a Changes' conflicts (element 8): a message without any
// is the previous release's 7 elements, which that release's agents read
// whole; one with them keeps its first 7 as they were, so those agents
// read the rest and skip it (§11). A malformed entry is refused, never
// half read.
func TestLossesTrailing(t *testing.T) {
	row := uuid.New()
	cases := []struct {
		name  string
		plain Message
		with  func([]LostWrite) Message
		lost  func(Message) []LostWrite
	}{
		{"snapshot chunk", &SnapshotChunk{Head: 9, To: SnapshotPos{Table: "visits", Row: row}},
			func(ls []LostWrite) Message {
				return &SnapshotChunk{Head: 9, To: SnapshotPos{Table: "visits", Row: row}, Lost: ls}
			}, func(m Message) []LostWrite { return m.(*SnapshotChunk).Lost }},
		{"changes", &Changes{From: 9, To: 12, Horizon: 3},
			func(ls []LostWrite) Message { return &Changes{From: 9, To: 12, Horizon: 3, Lost: ls} },
			func(m Message) []LostWrite { return m.(*Changes).Lost }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { lossesTrailing(t, row, tc.plain, tc.with, tc.lost) })
	}
}

func lossesTrailing(t *testing.T, row RowID, plain Message, with func([]LostWrite) Message, lostOf func(Message) []LostWrite) {
	frame, err := Encode(nil, plain)
	require.NoError(t, err)
	n, err := msgpack.NewDecoder(bytes.NewReader(frame)).DecodeArrayLen()
	require.NoError(t, err)
	require.Equal(t, 7, n, "a message without losses keeps the previous release's form")

	withLost, err := Encode(nil, with([]LostWrite{{Row: row, Field: "notes", Loser: Dot{Replica: uuid.New(), Seq: 3}, Winner: Dot{Replica: uuid.New(), Seq: 4}}}))
	require.NoError(t, err)
	var elems []msgpack.RawMessage
	require.NoError(t, msgpack.Unmarshal(withLost, &elems))
	require.Len(t, elems, 8)
	var old []msgpack.RawMessage
	require.NoError(t, msgpack.Unmarshal(frame, &old))
	require.Equal(t, old, elems[:7], "the first seven elements are the previous release's")

	good, err := msgpack.Marshal(append(anySlice(old), []any{[]any{row[:], "notes", make([]byte, 16), 3, make([]byte, 16), 4}}))
	require.NoError(t, err)
	m, err := Decode(good, DefaultLimits)
	require.NoError(t, err, "the entries below are malformed in one way each")
	require.Equal(t, []LostWrite{{Row: row, Field: "notes", Loser: Dot{Seq: 3}, Winner: Dot{Seq: 4}}}, lostOf(m))

	bad := []struct {
		name  string
		entry []any
	}{
		{"five elements", []any{row[:], "notes", make([]byte, 16), 3, make([]byte, 16)}},
		{"seven elements", []any{row[:], "notes", make([]byte, 16), 3, make([]byte, 16), 4, 0}},
		{"no sequence", []any{row[:], "notes", make([]byte, 16), 0, make([]byte, 16), 4}},
		{"short row id", []any{row[:8], "notes", make([]byte, 16), 3, make([]byte, 16), 4}},
		{"field not text", []any{row[:], 7, make([]byte, 16), 3, make([]byte, 16), 4}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			b, err := msgpack.Marshal(append(anySlice(old), []any{tc.entry}))
			require.NoError(t, err)
			_, err = Decode(b, DefaultLimits)
			var pe *Error
			require.ErrorAs(t, err, &pe)
			require.Equal(t, CodeBadFrame, pe.Code)
		})
	}
}

func anySlice(raw []msgpack.RawMessage) []any {
	out := make([]any, len(raw))
	for i := range raw {
		out[i] = raw[i]
	}
	return out
}
