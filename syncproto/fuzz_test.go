package syncproto

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// FuzzDecode feeds arbitrary frames to the decoder: it must return a message
// or an *Error, never panic, and whatever it accepts must re-encode to a frame
// that decodes to the same message.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzDecodeSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		m, err := Decode(frame, DefaultLimits)
		if err != nil {
			var pe *Error
			require.ErrorAs(t, err, &pe)
			return
		}
		again, err := Encode(nil, m)
		require.NoError(t, err)
		m2, err := Decode(again, DefaultLimits)
		require.NoError(t, err)
		require.Equal(t, normalize(m), normalize(m2))
	})
}

// FuzzMerge drives three replicas with operations and message deliveries
// chosen by the fuzzer's bytes; after a full exchange they must converge and
// keep every concurrent loser in their conflict logs.
func FuzzMerge(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte("replica one writes, replica two deletes, messages cross"))
	f.Fuzz(func(t *testing.T, script []byte) {
		s := newSim(1, Resolve)
		s.rng = rand.New(&scriptSource{script: script})
		s.run(min(len(script), 256))
		s.exchangeAll()
		require.NoError(t, s.check())
	})
}

// scriptSource turns fuzzer bytes into random numbers; once the script is
// used up it continues with a fixed pseudo-random sequence so sampling loops
// always terminate.
type scriptSource struct {
	script []byte
	n      uint64
}

func (s *scriptSource) Uint64() uint64 {
	if len(s.script) >= 8 {
		v := binary.LittleEndian.Uint64(s.script)
		s.script = s.script[8:]
		return v
	}
	if len(s.script) > 0 {
		var b [8]byte
		copy(b[:], s.script)
		s.script = nil
		return binary.LittleEndian.Uint64(b[:])
	}
	s.n += 0x9e3779b97f4a7c15
	z := s.n
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func fuzzDecodeSeeds() [][]byte {
	rng := rand.New(rand.NewPCG(7, 8))
	msgs := []Message{
		&Hello{Protocol: 1, Schema: 1, Replica: uuid.UUID{1}, Client: "hamlet-agent/test", SentAt: 1},
		&Welcome{Protocol: 1, Schema: 1, MinSchema: 1, Scope: []string{"32002-01"}, MaxFrame: 1 << 20, MaxChanges: 100},
		&Push{Batch: 1, Changes: sampleChanges(rng, 5)},
		&Ack{Batch: 1, Results: []Result{{Status: ResultApplied}, {Status: ResultRefused, Code: CodeOutOfScope, Reason: "x"}}},
		&Pull{Cursor: 5, Limit: 10},
		&Changes{From: 1, To: 2, Changes: sampleChanges(rng, 5), Evict: []Eviction{{Table: "households", NewScope: "y"}}},
		&Changes{From: 2, To: 3, Changes: sampleChanges(rng, 2),
			Lost: []LostWrite{{Row: uuid.UUID{6}, Field: "head_name", Loser: Dot{Replica: uuid.UUID{4}, Seq: 2}, Winner: Dot{Replica: uuid.UUID{5}, Seq: 9}}}},
		&ErrorMsg{Code: CodeBusy, Msg: "later"},
		&Notify{Cursor: 3},
		&SnapshotRequest{Head: 9, After: SnapshotPos{Table: "households", Row: uuid.UUID{2}}, Scopes: []string{"32002-01"}},
		&SnapshotChunk{Head: 9, Total: 5, To: SnapshotPos{Table: "visits", Row: uuid.UUID{3}}, More: true, Rows: sampleChanges(rng, 5)},
		&SnapshotChunk{Head: 9, To: SnapshotPos{Table: "visits", Row: uuid.UUID{3}}, Rows: sampleChanges(rng, 2),
			Lost: []LostWrite{{Row: uuid.UUID{3}, Field: "notes", Loser: Dot{Replica: uuid.UUID{4}, Seq: 2}, Winner: Dot{Replica: uuid.UUID{5}, Seq: 9}}}},
	}
	// The previous release's SnapshotRequest: header 6, 5 elements (§16.2).
	out := [][]byte{{0x96, 0x09, 0x00, 0xc0, 0x00, 0x90}}
	for _, m := range msgs {
		b, err := Encode(nil, m)
		if err != nil {
			panic(err)
		}
		out = append(out, b)
	}
	return out
}

var writeSeeds = flag.Bool("write-fuzz-seeds", false, "rewrite testdata/fuzz seed corpora from the current encoder")

// TestWriteFuzzSeeds keeps the checked-in corpus in step with the encoder:
// run with -write-fuzz-seeds after changing the wire format.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("corpus is checked in; pass -write-fuzz-seeds to regenerate")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for i, s := range fuzzDecodeSeeds() {
		m, err := Decode(s, DefaultLimits)
		require.NoError(t, err)
		name := filepath.Join(dir, fmt.Sprintf("seed-%02d-%s", i, m.Type()))
		require.NoError(t, os.WriteFile(name, []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)), 0o644))
	}
}
