package syncproto

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

func sampleChanges(rng *rand.Rand, n int) []Change {
	replicas := []ReplicaID{uuid.New(), uuid.New(), uuid.New()}
	seqs := make([]uint64, len(replicas))
	rows := []RowID{uuid.New(), uuid.New(), uuid.New(), uuid.New()}
	fields := []string{"head_name", "phone", "members_count", "vneid_level2", "lat", TombstoneField}
	ms := int64(1_764_000_000_000)
	var out []Change
	for i := 0; i < n; i++ {
		o := rng.IntN(len(replicas))
		seqs[o]++
		ms += int64(rng.IntN(5000)) - 1000
		c := Change{
			Table: []string{"households", "visits"}[rng.IntN(2)],
			Row:   rows[rng.IntN(len(rows))],
			Field: fields[rng.IntN(len(fields))],
			HLC:   MakeHLC(ms, uint16(rng.IntN(3))),
			Dot:   Dot{Replica: replicas[o], Seq: seqs[o]},
			Scope: []string{"32002-01", "32002-02"}[rng.IntN(2)],
		}
		switch rng.IntN(6) {
		case 0:
			c.Value = Null()
		case 1:
			c.Value = Bool(rng.IntN(2) == 0)
		case 2:
			c.Value = Int(rng.Int64N(1<<40) - 1<<39)
		case 3:
			c.Value = Float(rng.Float64()*360 - 180)
		case 4:
			c.Value = Int(math.MaxInt64)
		default:
			c.Value = String("Ấp Xóm Mũi, số " + string(rune('0'+rng.IntN(10))))
		}
		if b := rng.IntN(len(replicas)); rng.IntN(3) > 0 && seqs[b] > 0 {
			c.Base = Dot{Replica: replicas[b], Seq: 1 + rng.Uint64N(seqs[b])}
		}
		out = append(out, c)
	}
	return out
}

func TestCodecRoundTripsEveryMessage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	msgs := []Message{
		&Hello{Protocol: 1, Schema: 3, Replica: uuid.New(), Client: "hamlet-agent/0.1 windows/amd64", SentAt: 1764000000123},
		&Welcome{Protocol: 1, Schema: 3, MinSchema: 2, Server: uuid.New(), ServerTime: 1764000000200, EchoSentAt: 1764000000123,
			MaxSkewMs: 300000, Scope: []string{"32002-01", "32002-02"}, PushedSeq: 42, Cursor: 9000, MaxFrame: 4 << 20, MaxChanges: 10000},
		&Push{Batch: 17, Changes: sampleChanges(rng, 500)},
		&Push{Batch: 18},
		&Ack{Batch: 17, ServerTime: -5, Results: []Result{{Status: ResultApplied}, {Status: ResultSuperseded},
			{Status: ResultApplied, HLC: 123456}, {Status: ResultRefused, Code: CodeOutOfScope, Reason: "hamlet 32002-09 is not in your scope"}}},
		&Pull{Cursor: 123, Limit: 2000, Durable: 100},
		&Changes{From: 10, To: 99, More: true, Changes: sampleChanges(rng, 300),
			Evict: []Eviction{{Table: "households", Row: uuid.New(), NewScope: "32005-01"}}},
		&Changes{From: 99, To: 99},
		&Changes{From: 99, To: 130, Changes: sampleChanges(rng, 4), Horizon: 7, Lost: []LostWrite{
			{Row: uuid.New(), Field: "head_name", Loser: Dot{Replica: uuid.New(), Seq: 5}, Winner: Dot{Replica: uuid.New(), Seq: 1 << 33}}}},
		&ErrorMsg{Code: CodeVersionMismatch, Msg: "schema 9 is newer than this server's 3", Fatal: true},
		&Notify{Cursor: 77},
	}
	for _, m := range msgs {
		t.Run(m.Type().String(), func(t *testing.T) {
			frame, err := Encode(nil, m)
			require.NoError(t, err)
			got, err := Decode(frame, DefaultLimits)
			require.NoError(t, err)
			require.Equal(t, normalize(m), normalize(got))
		})
	}
}

// normalize makes nil and empty slices compare equal.
func normalize(m Message) Message {
	switch m := m.(type) {
	case *Push:
		if len(m.Changes) == 0 {
			m.Changes = nil
		}
	case *Changes:
		if len(m.Changes) == 0 {
			m.Changes = nil
		}
		if len(m.Evict) == 0 {
			m.Evict = nil
		}
	}
	return m
}

func TestDecodeRejectsBadInput(t *testing.T) {
	push, err := Encode(nil, &Push{Batch: 1, Changes: sampleChanges(rand.New(rand.NewPCG(3, 4)), 50)})
	require.NoError(t, err)
	hugeString := func() []byte {
		var b bytes.Buffer
		e := msgpack.NewEncoder(&b)
		_ = e.EncodeArrayLen(4)
		_ = e.EncodeUint(uint64(MsgError))
		_ = e.EncodeString(string(make([]byte, 70<<10)))
		_ = e.EncodeString("")
		_ = e.EncodeBool(false)
		return b.Bytes()
	}()
	cases := []struct {
		name  string
		frame []byte
		lim   Limits
		code  Code
	}{
		{"empty", nil, DefaultLimits, CodeBadFrame},
		{"not an array", []byte{0x01}, DefaultLimits, CodeBadFrame},
		{"unknown type", []byte{0x91, 0x63}, DefaultLimits, CodeUnknownType},
		{"truncated push", push[:len(push)/2], DefaultLimits, CodeBadFrame},
		{"trailing bytes", append(append([]byte{}, push...), 0xc0), DefaultLimits, CodeBadFrame},
		{"frame over the limit", push, Limits{MaxFrame: 100, MaxChanges: 10, MaxString: 10, MaxDict: 10}, CodeTooLarge},
		{"too many changes", push, Limits{MaxFrame: 1 << 20, MaxChanges: 10, MaxString: 1 << 10, MaxDict: 100}, CodeTooLarge},
		{"string over the limit", hugeString, Limits{MaxFrame: 1 << 20, MaxString: 64 << 10, MaxDict: 10}, CodeTooLarge},
		{"array length lies", []byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0x03}, DefaultLimits, CodeBadFrame},
		{"short uuid", []byte{0x96, 0x01, 0x01, 0x01, 0xc4, 0x02, 0x00, 0x00, 0xa0, 0x00}, DefaultLimits, CodeBadFrame},
		{"result without status", []byte{0x94, 0x04, 0x01, 0x00, 0x91, 0x00}, DefaultLimits, CodeBadFrame},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.frame, tc.lim)
			require.Error(t, err)
			require.Equal(t, tc.code, CodeOf(err), "%v", err)
		})
	}
}

// Every prefix of a valid frame must fail cleanly, never panic.
func TestDecodeEveryTruncation(t *testing.T) {
	frame, err := Encode(nil, &Changes{From: 1, To: 2, Changes: sampleChanges(rand.New(rand.NewPCG(5, 6)), 40),
		Evict: []Eviction{{Table: "visits", Row: uuid.New(), NewScope: "x"}}})
	require.NoError(t, err)
	for i := 0; i < len(frame); i++ {
		_, err := Decode(frame[:i], DefaultLimits)
		require.Error(t, err, "prefix %d of %d", i, len(frame))
		var pe *Error
		require.ErrorAs(t, err, &pe)
	}
}

// A Pull from a client that predates Durable (three elements) still decodes.
func TestPullWithoutDurableDecodes(t *testing.T) {
	m, err := Decode([]byte{0x93, 0x05, 0x7b, 0xcd, 0x07, 0xd0}, DefaultLimits)
	require.NoError(t, err)
	require.Equal(t, &Pull{Cursor: 123, Limit: 2000}, m)
}

func TestResultsCostOneByteWhenApplied(t *testing.T) {
	rs := make([]Result, 1000)
	for i := range rs {
		rs[i] = Result{Status: ResultApplied}
	}
	frame, err := Encode(nil, &Ack{Batch: 1, Results: rs})
	require.NoError(t, err)
	require.Less(t, len(frame), 1020)
}
