package syncproto

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// The Go agent and server share this codec, so they agree with each other
// even where the codec disagrees with docs/PROTOCOL.md (issue 16: a
// SnapshotRequest was an array header of 6 followed by 5 elements). These
// tests hold the codec to the spec through code that is not the codec: each
// message is described as the spec's element list, built as plain []any and
// written by a generic msgpack encoder; Hamlet must decode it, and Hamlet's
// own bytes must read back, with a generic decoder, as exactly that list.

// elem is one top-level element of a message, as the spec's table gives it.
type elem struct {
	name, typ string // the spec's name and type columns
	v         any    // the value as a generic encoder writes it
}

type genericCase struct {
	name  string
	t     MsgType
	elems []elem
	want  Message
	// decodeOnly: an older or shorter form a receiver must accept, which
	// Hamlet's encoder does not write (so its elements are a prefix of the
	// spec's list).
	decodeOnly bool
	// optionalAbsent: Hamlet writes this form, without the spec's optional
	// trailing elements (a Pull without Scopes).
	optionalAbsent bool
}

var (
	gA   = uuid.MustParse("0a0a0a0a-0a0a-4a0a-8a0a-0a0a0a0a0a0a")
	gB   = uuid.MustParse("0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b")
	gSrv = uuid.MustParse("5e5e5e5e-5e5e-4e5e-8e5e-5e5e5e5e5e5e")
	gRow = uuid.MustParse("1c1c1c1c-1c1c-4c1c-9c1c-1c1c1c1c1c1c")
	gRep = uuid.MustParse("2d2d2d2d-2d2d-4d2d-ad2d-2d2d2d2d2d2d")
	gVis = uuid.MustParse("3e3e3e3e-3e3e-4e3e-be3e-3e3e3e3e3e3e")
)

func bin(id uuid.UUID) []byte { return append([]byte(nil), id[:]...) }

// gPushList is a change list by the spec's §6.2, written out by hand: two
// row groups, a relative and an absolute base, a negative Δms, an integral
// float, a nil.
func gPushList() []any {
	return []any{
		[]any{"households", "32002-01", "head_name", "vneid_level2", "field_reports", "32002-02", "lat", "lng"},
		[]any{bin(gA), bin(gB)},
		[]any{
			[]any{uint64(0), bin(gRow), uint64(1),
				uint64(2), "Lê Văn Tư", int64(1764000000123), uint64(0), uint64(1), int64(42), uint64(2), uint64(7),
				uint64(3), true, int64(3600000), uint64(1), uint64(1), int64(1), uint64(1), uint64(3)},
			[]any{uint64(4), bin(gRep), uint64(5),
				uint64(6), float64(9.25), int64(-1001), uint64(2), uint64(1), int64(1), uint64(0), uint64(0),
				uint64(7), float64(105), int64(0), uint64(3), uint64(1), int64(1), uint64(1), uint64(1)},
		},
	}
}

func gPushChanges() []Change {
	return []Change{
		{Table: "households", Row: gRow, Field: "head_name", Value: String("Lê Văn Tư"), HLC: MakeHLC(1764000000123, 0),
			Dot: Dot{gA, 42}, Base: Dot{gB, 7}, Scope: "32002-01"},
		{Table: "households", Row: gRow, Field: "vneid_level2", Value: Bool(true), HLC: MakeHLC(1764003600123, 1),
			Dot: Dot{gA, 43}, Base: Dot{gA, 40}, Scope: "32002-01"},
		{Table: "field_reports", Row: gRep, Field: "lat", Value: Float(9.25), HLC: MakeHLC(1764003599122, 2),
			Dot: Dot{gA, 44}, Scope: "32002-02"},
		{Table: "field_reports", Row: gRep, Field: "lng", Value: Float(105), HLC: MakeHLC(1764003599122, 3),
			Dot: Dot{gA, 45}, Base: Dot{gA, 44}, Scope: "32002-02"},
	}
}

// gLogList is a pulled change list in log order: another origin, a sequence
// that goes back (negative Δseq), a negative integer value, a nil value.
func gLogList() []any {
	return []any{
		[]any{"visits", "32002-01", "notes", "households", "members_count"},
		[]any{bin(gB), bin(gA)},
		[]any{
			[]any{uint64(0), bin(gVis), uint64(1),
				uint64(2), nil, int64(1764000000000), uint64(0), uint64(1), int64(9), uint64(2), uint64(3)},
			[]any{uint64(3), bin(gRow), uint64(1),
				uint64(4), int64(-3), int64(-1000), uint64(2), uint64(1), int64(-4), uint64(0), uint64(0)},
		},
	}
}

func gLogChanges() []Change {
	return []Change{
		{Table: "visits", Row: gVis, Field: "notes", Value: Null(), HLC: MakeHLC(1764000000000, 0),
			Dot: Dot{gB, 9}, Base: Dot{gA, 3}, Scope: "32002-01"},
		{Table: "households", Row: gRow, Field: "members_count", Value: Int(-3), HLC: MakeHLC(1763999999000, 2),
			Dot: Dot{gB, 5}, Scope: "32002-01"},
	}
}

func emptyList() []any { return []any{[]any{}, []any{}, []any{}} }

func genericCases() []genericCase {
	chunk := []elem{
		{"type", "uint", uint8(MsgSnapshotChunk)},
		{"Head", "uint64", uint64(9000)},
		{"Total", "uint64", uint64(2)},
		{"From", "pos", nil},
		{"To", "pos", []any{"households", bin(gRow)}},
		{"More", "bool", false},
		{"Rows", "change list", gLogList()},
		{"Lost", "[lost]", []any{[]any{bin(gVis), "notes", bin(gA), uint64(7), bin(gB), uint64(9)}}},
	}
	welcome := []elem{
		{"type", "uint", uint8(MsgWelcome)},
		{"Protocol", "uint16", uint16(1)},
		{"Schema", "uint16", uint16(2)},
		{"MinSchema", "uint16", uint16(1)},
		{"Server", "uuid", bin(gSrv)},
		{"ServerTime", "int", int64(1764000000203)},
		{"EchoSentAt", "int", int64(1764000000123)},
		{"MaxSkewMs", "int", int64(300000)},
		{"Scope", "[str]", []any{"32002-01", "32002-02"}},
		{"PushedSeq", "uint64", uint64(41)},
		{"Cursor", "uint64", uint64(1) << 60},
		{"MaxFrame", "uint32", uint32(4 << 20)},
		{"MaxChanges", "uint32", uint32(10000)},
		{"reserved", "any", nil},
		{"Reclone", "bool", true},
		{"LogEpoch", "uint64", uint64(0x9e3779b97f4a7c15)},
	}
	welcomeMsg := &Welcome{Protocol: 1, Schema: 2, MinSchema: 1, Server: gSrv, ServerTime: 1764000000203, EchoSentAt: 1764000000123,
		MaxSkewMs: 300000, Scope: []string{"32002-01", "32002-02"}, PushedSeq: 41, Cursor: 1 << 60, MaxFrame: 4 << 20, MaxChanges: 10000, Reclone: true,
		LogEpoch: 0x9e3779b97f4a7c15}
	oldWelcome := *welcomeMsg
	oldWelcome.Reclone, oldWelcome.LogEpoch = false, 0
	beforeEpochWelcome := *welcomeMsg
	beforeEpochWelcome.LogEpoch = 0

	pull := []elem{
		{"type", "uint", uint8(MsgPull)},
		{"Cursor", "uint64", uint64(9000)},
		{"Limit", "uint32", uint32(2000)},
		{"Durable", "uint64", uint64(8999)},
		{"Scopes", "[str]", []any{"32002-03"}},
	}
	changes := []elem{
		{"type", "uint", uint8(MsgChanges)},
		{"From", "uint64", uint64(9000)},
		{"To", "uint64", uint64(9100)},
		{"More", "bool", true},
		{"Changes", "change list", gLogList()},
		{"Evict", "[eviction]", []any{[]any{"households", bin(gRow), "32005-01"}}},
		{"Horizon", "uint64", uint64(8000)},
		{"Lost", "[lost]", []any{[]any{bin(gRow), "head_name", bin(gA), uint64(7), bin(gB), uint64(9)}}},
	}
	changesMsg := &Changes{From: 9000, To: 9100, More: true, Changes: gLogChanges(),
		Evict: []Eviction{{Table: "households", Row: gRow, NewScope: "32005-01"}}, Horizon: 8000}
	lostChanges := *changesMsg
	lostChanges.Lost = []LostWrite{{Row: gRow, Field: "head_name", Loser: Dot{gA, 7}, Winner: Dot{gB, 9}}}
	oldChanges := *changesMsg
	oldChanges.Horizon = 0

	snapReq := func(after any, scopes []any) []elem {
		return []elem{
			{"type", "uint", uint8(MsgSnapshotRequest)},
			{"Head", "uint64", uint64(9000)},
			{"After", "pos", after},
			{"Limit", "uint32", uint32(500)},
			{"Scopes", "[str]", scopes},
		}
	}

	return []genericCase{
		{name: "hello", t: MsgHello, elems: []elem{
			{"type", "uint", uint8(MsgHello)},
			{"Protocol", "uint16", uint16(1)},
			{"Schema", "uint16", uint16(2)},
			{"Replica", "uuid", bin(gA)},
			{"Client", "str", "hamlet-agent/0.1.0 linux/amd64"},
			{"SentAt", "int", int64(1764000000123)},
		}, want: &Hello{Protocol: 1, Schema: 2, Replica: gA, Client: "hamlet-agent/0.1.0 linux/amd64", SentAt: 1764000000123}},
		{name: "welcome", t: MsgWelcome, elems: welcome, want: welcomeMsg},
		{name: "welcome of a server before Reclone", t: MsgWelcome, elems: welcome[:14], want: &oldWelcome, decodeOnly: true},
		{name: "welcome of a server before LogEpoch", t: MsgWelcome, elems: welcome[:15], want: &beforeEpochWelcome, decodeOnly: true},
		{name: "push", t: MsgPush, elems: []elem{
			{"type", "uint", uint8(MsgPush)},
			{"Batch", "uint64", uint64(7)},
			{"Changes", "change list", gPushList()},
		}, want: &Push{Batch: 7, Changes: gPushChanges()}},
		{name: "empty push", t: MsgPush, elems: []elem{
			{"type", "uint", uint8(MsgPush)},
			{"Batch", "uint64", uint64(1)},
			{"Changes", "change list", emptyList()},
		}, want: &Push{Batch: 1}},
		{name: "ack", t: MsgAck, elems: []elem{
			{"type", "uint", uint8(MsgAck)},
			{"Batch", "uint64", uint64(7)},
			{"ServerTime", "int", int64(1764000060124)},
			{"Results", "[result]", []any{
				uint64(1),
				[]any{uint64(1), uint64(MakeHLC(1764000060123, 0)), "", ""},
				uint64(3),
				[]any{uint64(4), uint64(0), "out_of_scope", "hamlet 32002-09 is not in the device's scope"},
				uint64(2),
			}},
		}, want: &Ack{Batch: 7, ServerTime: 1764000060124, Results: []Result{
			{Status: ResultApplied}, {Status: ResultApplied, HLC: MakeHLC(1764000060123, 0)}, {Status: ResultDuplicate},
			{Status: ResultRefused, Code: CodeOutOfScope, Reason: "hamlet 32002-09 is not in the device's scope"}, {Status: ResultSuperseded}}},
			optionalAbsent: true},
		{name: "ack with reasons", t: MsgAck, elems: []elem{
			{"type", "uint", uint8(MsgAck)},
			{"Batch", "uint64", uint64(8)},
			{"ServerTime", "int", int64(1764000060124)},
			{"Results", "[result]", []any{
				uint64(1),
				[]any{uint64(4), uint64(0), "invalid_value", "Số nhân khẩu phải từ 1 đến 50."},
			}},
			{"Reasons", "[reason]", []any{
				nil,
				[]any{"out_of_range", map[string]any{"field": "members_count", "table": "households"}},
			}},
		}, want: &Ack{Batch: 8, ServerTime: 1764000060124, Results: []Result{
			{Status: ResultApplied},
			{Status: ResultRefused, Code: CodeInvalidValue, Reason: "Số nhân khẩu phải từ 1 đến 50.",
				Why: Why{Key: "out_of_range", Params: map[string]string{"table": "households", "field": "members_count"}}}}}},
		{name: "pull", t: MsgPull, elems: pull[:4], want: &Pull{Cursor: 9000, Limit: 2000, Durable: 8999}, optionalAbsent: true},
		{name: "pull with scopes", t: MsgPull, elems: pull, want: &Pull{Cursor: 9000, Limit: 2000, Durable: 8999, Scopes: []string{"32002-03"}}},
		{name: "pull of a client before Durable", t: MsgPull, elems: pull[:3], want: &Pull{Cursor: 9000, Limit: 2000}, decodeOnly: true},
		{name: "changes", t: MsgChanges, elems: changes[:7], want: changesMsg, optionalAbsent: true},
		{name: "changes telling a loss", t: MsgChanges, elems: changes, want: &lostChanges},
		{name: "changes of a server before Horizon", t: MsgChanges, elems: changes[:6], want: &oldChanges, decodeOnly: true},
		{name: "error", t: MsgError, elems: []elem{
			{"type", "uint", uint8(MsgError)},
			{"Code", "str", "sequence_gap"},
			{"Msg", "str", "origin sequence 9 follows 7"},
			{"Fatal", "bool", false},
		}, want: &ErrorMsg{Code: CodeSequenceGap, Msg: "origin sequence 9 follows 7"}},
		{name: "notify", t: MsgNotify, elems: []elem{
			{"type", "uint", uint8(MsgNotify)},
			{"Cursor", "uint64", uint64(9001)},
		}, want: &Notify{Cursor: 9001}},
		{name: "snapshot request from the start", t: MsgSnapshotRequest, elems: snapReq(nil, []any{}),
			want: &SnapshotRequest{Head: 9000, Limit: 500}},
		{name: "snapshot request after a row", t: MsgSnapshotRequest, elems: snapReq([]any{"households", bin(gRow)}, []any{"32002-01"}),
			want: &SnapshotRequest{Head: 9000, After: SnapshotPos{"households", gRow}, Limit: 500, Scopes: []string{"32002-01"}}},
		{name: "snapshot chunk", t: MsgSnapshotChunk, elems: chunk[:7],
			want: &SnapshotChunk{Head: 9000, Total: 2, To: SnapshotPos{"households", gRow}, Rows: gLogChanges()}, optionalAbsent: true},
		{name: "snapshot chunk telling a loss", t: MsgSnapshotChunk, elems: chunk,
			want: &SnapshotChunk{Head: 9000, Total: 2, To: SnapshotPos{"households", gRow}, Rows: gLogChanges(),
				Lost: []LostWrite{{Row: gVis, Field: "notes", Loser: Dot{gA, 7}, Winner: Dot{gB, 9}}}}},
	}
}

func values(es []elem) []any {
	out := make([]any, len(es))
	for i, e := range es {
		out[i] = e.v
	}
	return out
}

// genericEncode writes v with the msgpack library's own encoding of plain
// Go values: typed integers keep their width (uint16 is cd, int64 is d3)
// unless compact, which writes the shortest form.
func genericEncode(t *testing.T, v any, compact bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(compact)
	enc.UseCompactFloats(false)
	require.NoError(t, enc.Encode(v))
	return buf.Bytes()
}

// genericDecode reads one msgpack value and requires that it is the whole
// frame: an array header that claims more elements than follow fails here.
func genericDecode(t *testing.T, frame []byte) any {
	t.Helper()
	r := bytes.NewReader(frame)
	dec := msgpack.NewDecoder(r)
	v, err := dec.DecodeInterfaceLoose()
	require.NoError(t, err, "a generic msgpack decoder cannot read % x", frame)
	require.Zero(t, r.Len(), "%d bytes follow the message's array", r.Len())
	return v
}

// canon makes generically decoded values comparable: every integer as
// int64 (uint64 above MaxInt64), every array as []any.
func canon(v any) any {
	switch x := v.(type) {
	case int8, int16, int32, int64, int:
		return reflectInt(x)
	case uint8, uint16, uint32, uint64, uint:
		u := reflectUint(x)
		if u <= math.MaxInt64 {
			return int64(u)
		}
		return u
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = canon(x[i])
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i := range x {
			out[i] = x[i]
		}
		return out
	}
	return v
}

func reflectInt(v any) int64 {
	n, _ := strconv.ParseInt(fmt.Sprint(v), 10, 64)
	return n
}

func reflectUint(v any) uint64 {
	n, _ := strconv.ParseUint(fmt.Sprint(v), 10, 64)
	return n
}

func TestEveryMessageDecodesFromAGenericEncoder(t *testing.T) {
	for _, tc := range genericCases() {
		for _, compact := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/compact=%v", tc.name, compact), func(t *testing.T) {
				frame := genericEncode(t, values(tc.elems), compact)
				got, err := Decode(frame, DefaultLimits)
				require.NoError(t, err, "% x", frame)
				require.Equal(t, normalizeGeneric(tc.want), normalizeGeneric(got))
			})
		}
	}
}

func TestHamletsBytesAreStandardMsgpack(t *testing.T) {
	for _, tc := range genericCases() {
		if tc.decodeOnly {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			frame, err := Encode(nil, tc.want)
			require.NoError(t, err)
			got := genericDecode(t, frame)
			arr, ok := got.([]any)
			require.True(t, ok, "the frame is not an array: %T", got)
			require.Len(t, arr, len(tc.elems), "elements of a %s", tc.t)
			require.Equal(t, canon(values(tc.elems)), canon(arr))
		})
	}
}

// An agent of the previous release wrote a SnapshotRequest as an array
// header of 6 followed by its 5 elements, and nothing after. A server must
// still clone it; the form is recognised only when the frame ends right
// after element 4, which a real 6-element array never does.
func TestOldSnapshotRequestStillDecodes(t *testing.T) {
	for _, tc := range genericCases() {
		if tc.t != MsgSnapshotRequest {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			frame := genericEncode(t, values(tc.elems), true)
			require.Equal(t, byte(0x95), frame[0])
			old := append([]byte{0x96}, frame[1:]...)
			got, err := Decode(old, DefaultLimits)
			require.NoError(t, err, "% x", old)
			require.Equal(t, normalizeGeneric(tc.want), normalizeGeneric(got))

			// A sixth element a newer peer appended is skipped as usual.
			newer := append(append([]byte{0x96}, frame[1:]...), 0xc3)
			got, err = Decode(newer, DefaultLimits)
			require.NoError(t, err)
			require.Equal(t, normalizeGeneric(tc.want), normalizeGeneric(got))

			// The old header is tolerated for 6 only: 7 with 5 elements is not.
			bad := append([]byte{0x97}, frame[1:]...)
			_, err = Decode(bad, DefaultLimits)
			require.Equal(t, CodeBadFrame, CodeOf(err))
		})
	}
	// The bytes an agent of the previous release sent to start a clone.
	got, err := Decode([]byte{0x96, 0x09, 0x00, 0xc0, 0x00, 0x90}, DefaultLimits)
	require.NoError(t, err)
	require.Equal(t, &SnapshotRequest{}, got)
}

func normalizeGeneric(m Message) Message {
	switch m := m.(type) {
	case *SnapshotChunk:
		if len(m.Rows) == 0 {
			m.Rows = nil
		}
	case *SnapshotRequest:
		if len(m.Scopes) == 0 {
			m.Scopes = nil
		}
	}
	return normalize(m)
}

// specMessage is one message table of docs/PROTOCOL.md: the heading
// "### N.M Name (type)" and the first table under it.
type specMessage struct {
	name  string
	elems [][2]string // name, type
}

var (
	specHeading = regexp.MustCompile(`^### [\d.]+ (\w+) \((\d+)\)$`)
	specRow     = regexp.MustCompile(`^\| (\d+) \| ([^|]+?) \| ([^|]+?) \|`)
)

func readSpecMessages(t *testing.T) map[MsgType]specMessage {
	t.Helper()
	f, err := os.Open("../docs/PROTOCOL.md")
	require.NoError(t, err)
	defer f.Close()
	out := map[MsgType]specMessage{}
	var cur MsgType // 0: not under a message heading
	var inTable, tableDone bool
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			cur, inTable, tableDone = 0, false, false
			if m := specHeading.FindStringSubmatch(line); m != nil {
				n, err := strconv.Atoi(m[2])
				require.NoError(t, err)
				cur = MsgType(n)
				require.NotContains(t, out, cur, "two headings for message type %d", n)
				out[cur] = specMessage{name: m[1]}
			}
			continue
		}
		switch {
		case cur == 0 || tableDone:
		case strings.HasPrefix(line, "|"):
			inTable = true
			if m := specRow.FindStringSubmatch(line); m != nil {
				sm := out[cur]
				i, _ := strconv.Atoi(m[1])
				require.Equal(t, len(sm.elems), i, "%s: element rows out of order", sm.name)
				sm.elems = append(sm.elems, [2]string{m[2], m[3]})
				out[cur] = sm
			}
		case inTable:
			tableDone = true
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// knownTypes asks the decoder which message types it knows: a one-element
// frame of a known type is too short (bad_frame), of an unknown one is
// unknown_type.
func knownTypes(t *testing.T) []MsgType {
	var out []MsgType
	for n := 0; n <= 255; n++ {
		frame, err := msgpack.Marshal([]any{uint8(n)})
		require.NoError(t, err)
		_, err = Decode(frame, DefaultLimits)
		require.Error(t, err)
		if CodeOf(err) != CodeUnknownType {
			out = append(out, MsgType(n))
		}
	}
	return out
}

// The cases above must follow the spec's tables, and cover every message
// type the spec lists and the decoder knows: a new message type without a
// case here, or a table that changed, fails.
func TestGenericCasesFollowTheSpec(t *testing.T) {
	spec := readSpecMessages(t)
	var specTypes, caseTypes []MsgType
	for mt := range spec {
		specTypes = append(specTypes, mt)
	}
	for _, tc := range genericCases() {
		if !slices.Contains(caseTypes, tc.t) {
			caseTypes = append(caseTypes, tc.t)
		}
		sm, ok := spec[tc.t]
		require.True(t, ok, "%s: docs/PROTOCOL.md has no table for type %d", tc.name, tc.t)
		require.Equal(t, strings.ReplaceAll(tc.t.String(), "_", ""), strings.ToLower(sm.name), "type %d", tc.t)
		require.LessOrEqual(t, len(tc.elems), len(sm.elems), "%s has more elements than the spec's %s", tc.name, sm.name)
		if !tc.decodeOnly && !tc.optionalAbsent {
			require.Len(t, tc.elems, len(sm.elems), "%s: Hamlet writes every element the spec lists for %s", tc.name, sm.name)
		}
		for i, e := range tc.elems {
			require.Equal(t, sm.elems[i], [2]string{e.name, e.typ}, "%s element %d", tc.name, i)
		}
		require.Equal(t, uint8(tc.t), tc.elems[0].v, tc.name)
	}
	slices.Sort(specTypes)
	slices.Sort(caseTypes)
	require.Equal(t, specTypes, caseTypes, "message types in docs/PROTOCOL.md and in these cases")
	require.Equal(t, knownTypes(t), caseTypes, "message types the decoder knows and these cases")
}
