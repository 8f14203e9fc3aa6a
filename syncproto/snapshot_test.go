package syncproto

import (
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
