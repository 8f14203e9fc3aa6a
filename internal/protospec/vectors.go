package protospec

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"

	"github.com/google/uuid"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// A vector is one frame and what it means. Canonical vectors are the bytes
// an encoder following docs/PROTOCOL.md §4 writes (shortest integers, the
// bare result form, …): a conforming encoder writes exactly them, and they
// were made by syncproto.Encode. The others are forms a decoder must still
// accept (wider integer formats, elements an older peer leaves out, the
// old SnapshotRequest of §16.2); no encoder should write them.
type vector struct {
	name, note string
	msg        syncproto.Message // canonical: encoded
	raw        []byte            // not canonical: decoded for its meaning
}

// invalid is a frame a decoder must refuse with the code.
type invalid struct {
	name, note string
	raw        []byte
	code       syncproto.Code
}

// Made-up ids with visible patterns, as in the spec's examples (§13).
var (
	repA   = uuid.MustParse("0a0a0a0a-0a0a-4a0a-8a0a-0a0a0a0a0a0a")
	repB   = uuid.MustParse("0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b")
	server = uuid.MustParse("5e5e5e5e-5e5e-4e5e-8e5e-5e5e5e5e5e5e")
	hh     = uuid.MustParse("1c1c1c1c-1c1c-4c1c-9c1c-1c1c1c1c1c1c")
	visit  = uuid.MustParse("3e3e3e3e-3e3e-4e3e-be3e-3e3e3e3e3e3e")
	report = uuid.MustParse("2d2d2d2d-2d2d-4d2d-ad2d-2d2d2d2d2d2d")
)

const t0 = int64(1764000000123) // 2025-11-24T16:00:00.123Z

// example131 is the Push of docs/PROTOCOL.md §13.1.
func example131() []syncproto.Change {
	return []syncproto.Change{
		{Table: "households", Row: hh, Field: "head_name", Value: syncproto.String("Lê Văn Tư"), HLC: syncproto.MakeHLC(t0, 0),
			Dot: syncproto.Dot{Replica: repA, Seq: 42}, Base: syncproto.Dot{Replica: repB, Seq: 7}, Scope: "32002-01"},
		{Table: "households", Row: hh, Field: "vneid_level2", Value: syncproto.Bool(true), HLC: syncproto.MakeHLC(t0+3600000, 1),
			Dot: syncproto.Dot{Replica: repA, Seq: 43}, Base: syncproto.Dot{Replica: repA, Seq: 40}, Scope: "32002-01"},
	}
}

// everyKind writes one value of each kind, in two row groups of two tables,
// with the clock going back (a negative Δms) and a base of the same origin
// that is newer than the write (written absolute, §6.2 step 3).
func everyKind() []syncproto.Change {
	d := func(seq uint64) syncproto.Dot { return syncproto.Dot{Replica: repA, Seq: seq} }
	return []syncproto.Change{
		{Table: "field_reports", Row: report, Field: "hamlet_code", Value: syncproto.String("32002-02"), HLC: syncproto.MakeHLC(t0, 0), Dot: d(1), Scope: "32002-02"},
		{Table: "field_reports", Row: report, Field: "lng", Value: syncproto.Float(105), HLC: syncproto.MakeHLC(t0, 1), Dot: d(2), Scope: "32002-02"},
		{Table: "field_reports", Row: report, Field: "lat", Value: syncproto.Float(9.176), HLC: syncproto.MakeHLC(t0, 2), Dot: d(3), Scope: "32002-02"},
		{Table: "field_reports", Row: report, Field: "occurred_at", Value: syncproto.Int(t0 - 86400000), HLC: syncproto.MakeHLC(t0, 3), Dot: d(4), Scope: "32002-02"},
		{Table: "field_reports", Row: report, Field: "consent_disclose", Value: syncproto.Bool(false), HLC: syncproto.MakeHLC(t0, 4), Dot: d(5), Scope: "32002-02"},
		{Table: "field_reports", Row: report, Field: "location", Value: syncproto.Null(), HLC: syncproto.MakeHLC(t0, 5), Dot: d(6), Scope: "32002-02"},
		{Table: "households", Row: hh, Field: "members_count", Value: syncproto.Int(-3), HLC: syncproto.MakeHLC(t0-1000, 0), Dot: d(7),
			Base: syncproto.Dot{Replica: repA, Seq: 9}, Scope: "32002-01"},
		{Table: "households", Row: hh, Field: syncproto.TombstoneField, Value: syncproto.Bool(true), HLC: syncproto.MakeHLC(t0+5, 0), Dot: d(8),
			Base: d(7), Scope: "32002-01"},
	}
}

// logOrder is what a pull brings: another replica's and the server's
// writes, a sequence that goes back (negative Δseq), a child row's
// hamlet_code the server wrote when its household moved.
func logOrder() []syncproto.Change {
	return []syncproto.Change{
		{Table: "households", Row: hh, Field: "hamlet_code", Value: syncproto.String("32002-02"), HLC: syncproto.MakeHLC(t0, 0),
			Dot: syncproto.Dot{Replica: repB, Seq: 9}, Base: syncproto.Dot{Replica: repA, Seq: 3}, Scope: "32002-02"},
		{Table: "visits", Row: visit, Field: "hamlet_code", Value: syncproto.String("32002-02"), HLC: syncproto.MakeHLC(t0, 1),
			Dot: syncproto.Dot{Replica: server, Seq: 1}, Base: syncproto.Dot{Replica: repA, Seq: 4}, Scope: "32002-02"},
		{Table: "households", Row: hh, Field: "notes", Value: syncproto.String("hộ khó khăn"), HLC: syncproto.MakeHLC(t0-1000, 2),
			Dot: syncproto.Dot{Replica: repB, Seq: 5}, Scope: "32002-02"},
	}
}

// generic writes v with a generic msgpack encoder: integers keep the width
// of their Go type (uint16 is cd, int64 is d3), which a decoder must accept.
func generic(v any) []byte {
	b, err := msgpack.Marshal(v)
	if err != nil {
		panic(err) // plain values built below: a bug, caught by the tests
	}
	return b
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// messageVectors are the vectors of each message type, in type order.
func messageVectors() []struct {
	t  syncproto.MsgType
	vs []vector
} {
	welcome := &syncproto.Welcome{Protocol: 1, Schema: 2, MinSchema: 1, Server: server, ServerTime: t0 + 80, EchoSentAt: t0,
		MaxSkewMs: 300000, Scope: []string{"32002-01", "32002-02"}, PushedSeq: 41, Cursor: 9000, MaxFrame: 4 << 20, MaxChanges: 10000}
	reclone := *welcome
	reclone.Reclone, reclone.PushedSeq, reclone.Cursor = true, 0, 1<<53+1
	rows := logOrder()[:1]
	return []struct {
		t  syncproto.MsgType
		vs []vector
	}{
		{syncproto.MsgHello, []vector{
			{name: "hello", msg: &syncproto.Hello{Protocol: 1, Schema: 2, Replica: repA, Client: "hamlet-agent/0.1.0 linux/amd64", SentAt: t0}},
			{name: "hello with wide integers", note: "the same Hello from an encoder that keeps each integer's width (uint8 type, uint16 versions, int64 time)",
				raw: generic([]any{uint8(1), uint16(1), uint16(2), repA[:], "hamlet-agent/0.1.0 linux/amd64", t0})},
			{name: "hello with an unknown trailing element", note: "a newer client appended an element: a receiver skips it (§11)",
				raw: generic([]any{1, 1, 2, repA[:], "hamlet-agent/9.0.0 linux/amd64", t0, map[string]any{"x": []any{1, "y"}}})},
		}},
		{syncproto.MsgWelcome, []vector{
			{name: "welcome", msg: welcome},
			{name: "welcome asking for a re-clone", note: "Reclone; a Cursor above 2^53, which a JSON number would round", msg: &reclone},
			{name: "welcome of a server before Reclone", note: "14 elements: Reclone is false",
				raw: generic([]any{2, 1, 2, 1, server[:], t0 + 80, t0, 300000, []string{"32002-01", "32002-02"}, 41, 9000, 4 << 20, 10000, nil})},
		}},
		{syncproto.MsgPush, []vector{
			{name: "push of the spec's example", note: "docs/PROTOCOL.md §13.1", msg: &syncproto.Push{Batch: 7, Changes: example131()}},
			{name: "push of every value kind", note: "two row groups; Δms −1000; a base of the same origin newer than the write is written absolute; a tombstone",
				msg: &syncproto.Push{Batch: 8, Changes: everyKind()}},
			{name: "empty push", msg: &syncproto.Push{Batch: 1}},
		}},
		{syncproto.MsgAck, []vector{
			{name: "ack of the spec's example", note: "docs/PROTOCOL.md §13.2: applied as sent, then applied and restamped", msg: &syncproto.Ack{Batch: 7, ServerTime: t0 + 60001, Results: []syncproto.Result{
				{Status: syncproto.ResultApplied}, {Status: syncproto.ResultApplied, HLC: syncproto.MakeHLC(t0+60000, 0)}}}},
			{name: "ack of every status", msg: &syncproto.Ack{Batch: 9, ServerTime: t0, Results: []syncproto.Result{
				{Status: syncproto.ResultApplied}, {Status: syncproto.ResultSuperseded}, {Status: syncproto.ResultDuplicate},
				{Status: syncproto.ResultRefused, Code: syncproto.CodeOutOfScope, Reason: "hamlet 32009-01 is not in the device's scope"},
				{Status: syncproto.ResultRefused, Code: syncproto.CodeInvalidValue, Reason: "out_of_range: members_count 1..50"}}}},
			{name: "ack with reasons as data", note: "docs/PROTOCOL.md §5.4, element 4: one entry per result, nil or [key, params]; Reason keeps a Vietnamese text for clients before it",
				msg: &syncproto.Ack{Batch: 10, ServerTime: t0, Results: []syncproto.Result{
					{Status: syncproto.ResultApplied},
					{Status: syncproto.ResultRefused, Code: syncproto.CodeInvalidValue, Reason: "out_of_range: Số nhân khẩu phải từ 1 đến 50: hãy nhập lại.",
						Why: syncproto.Why{Key: "out_of_range", Params: map[string]string{"table": "households", "field": "members_count"}}},
					{Status: syncproto.ResultRefused, Code: syncproto.CodeMovedOutOfScope,
						Reason: "Hộ 1c1c1c1c-1c1c-4c1c-9c1c-1c1c1c1c1c1c đã chuyển từ ấp 32002-01 sang ấp 32167-01 lúc 26/11/2025 10:00 (UTC+7); thay đổi này được ghi sau đó, và ấp 32167-01 không thuộc phạm vi của máy này.",
						Why: syncproto.Why{Key: "moved", Params: map[string]string{"household": "1c1c1c1c-1c1c-4c1c-9c1c-1c1c1c1c1c1c",
							"from": "32002-01", "to": "32167-01", "at": "2025-11-26T03:00:00Z"}}}}}},
			{name: "ack with a long-form result without a restamp", note: "an encoder must use the bare form here, but a decoder reads this one too",
				raw: generic([]any{4, 9, t0, []any{[]any{2, 0, "", ""}}})},
		}},
		{syncproto.MsgPull, []vector{
			{name: "first pull", note: "cursor 0, the server's page size", msg: &syncproto.Pull{}},
			{name: "pull after 9000, acknowledging 8000", msg: &syncproto.Pull{Cursor: 9000, Limit: 2000, Durable: 8000}},
			{name: "back-fill pull", note: "§15", msg: &syncproto.Pull{Scopes: []string{"32002-03"}}},
			{name: "pull of a client before Durable", note: "3 elements", raw: generic([]any{5, 9000, 2000})},
		}},
		{syncproto.MsgChanges, []vector{
			{name: "changes: nothing new", msg: &syncproto.Changes{From: 9000, To: 9000}},
			{name: "changes with a move", note: "a household moved out of the device's hamlets: its new hamlet_code, the server's write to its visit, an older entry, the eviction",
				msg: &syncproto.Changes{From: 9000, To: 9105, More: true, Changes: logOrder(),
					Evict: []syncproto.Eviction{{Table: "households", Row: hh, NewScope: "32002-02"}, {Table: "visits", Row: visit, NewScope: "32002-02"}}}},
			{name: "last page with a horizon", msg: &syncproto.Changes{From: 9105, To: 9200, Horizon: 8800}},
			{name: "changes of a server before Horizon", note: "6 elements: Horizon is 0", raw: generic([]any{6, 9000, 9000, false, []any{[]any{}, []any{}, []any{}}, []any{}})},
			{name: "changes telling a loss", note: "§5.6 element 7: a move logged the household's hamlet_code again (repB's seq 9), which beat repA's seq 7; a Changes without losses has 7 elements",
				msg: &syncproto.Changes{From: 9000, To: 9105, Changes: logOrder()[:1], Horizon: 8800,
					Lost: []syncproto.LostWrite{{Row: hh, Field: "hamlet_code", Loser: syncproto.Dot{Replica: repA, Seq: 7}, Winner: syncproto.Dot{Replica: repB, Seq: 9}}}}},
		}},
		{syncproto.MsgError, errorVectors()},
		{syncproto.MsgNotify, []vector{
			{name: "notify", msg: &syncproto.Notify{Cursor: 9001}},
		}},
		{syncproto.MsgSnapshotRequest, []vector{
			{name: "start a clone", msg: &syncproto.SnapshotRequest{}},
			{name: "next chunk of a back-fill clone", msg: &syncproto.SnapshotRequest{Head: 9000, After: syncproto.SnapshotPos{Table: "households", Row: hh}, Limit: 500, Scopes: []string{"32002-03"}}},
			{name: "start a clone, previous release", note: "§16.2: array header 6, then 5 elements; a server accepts it, nobody writes it",
				raw: mustHex("960900c00090")},
		}},
		{syncproto.MsgSnapshotChunk, []vector{
			{name: "first chunk", msg: &syncproto.SnapshotChunk{Head: 9000, Total: 2, To: syncproto.SnapshotPos{Table: "households", Row: hh}, More: true, Rows: rows}},
			{name: "last chunk, empty", msg: &syncproto.SnapshotChunk{Head: 9000, From: syncproto.SnapshotPos{Table: "visits", Row: visit}, To: syncproto.SnapshotPos{Table: "visits", Row: visit}}},
			{name: "chunk telling a loss", note: "§16.3 element 7: repA's hamlet_code of seq 7 lost to the version sent, repB's seq 9; a chunk without losses has 7 elements",
				msg: &syncproto.SnapshotChunk{Head: 9000, Total: 1, To: syncproto.SnapshotPos{Table: "households", Row: hh}, Rows: rows,
					Lost: []syncproto.LostWrite{{Row: hh, Field: "hamlet_code", Loser: syncproto.Dot{Replica: repA, Seq: 7}, Winner: syncproto.Dot{Replica: repB, Seq: 9}}}}},
		}},
	}
}

// fatal is the Fatal flag Hamlet's server sends with each code, as the
// tables of docs/PROTOCOL.md §9 and §15 give it (a test holds them equal).
var fatal = map[syncproto.Code]bool{
	syncproto.CodeBadFrame: true, syncproto.CodeTooLarge: true, syncproto.CodeUnknownType: true,
	syncproto.CodeVersionMismatch: true, syncproto.CodeUnauthorized: true, syncproto.CodeTokenRevoked: true,
	syncproto.CodeShuttingDown: true, syncproto.CodeScopeChanged: true, syncproto.CodeSessionReplaced: true,
	syncproto.CodeReplicaForked: true,
}

// errorVectors: one Error message per code, with the code's English hint
// as its message.
func errorVectors() []vector {
	var out []vector
	for _, c := range syncproto.Codes() {
		out = append(out, vector{name: string(c), msg: &syncproto.ErrorMsg{Code: c, Msg: syncproto.Hint(c, "en"), Fatal: fatal[c]}})
	}
	return out
}

func invalidVectors() []invalid {
	return []invalid{
		{name: "empty frame", raw: nil, code: syncproto.CodeBadFrame},
		{name: "not an array", raw: mustHex("08"), code: syncproto.CodeBadFrame},
		{name: "empty array", raw: mustHex("90"), code: syncproto.CodeBadFrame},
		{name: "unknown message type", raw: mustHex("9163"), code: syncproto.CodeUnknownType},
		{name: "too few elements", note: "a Notify without its cursor", raw: mustHex("9108"), code: syncproto.CodeBadFrame},
		{name: "header claims more elements than follow", note: "a Notify whose header says 3", raw: mustHex("9308cd2329"), code: syncproto.CodeBadFrame},
		{name: "trailing bytes", note: "a Notify and one more byte", raw: mustHex("9208cd2329c0"), code: syncproto.CodeBadFrame},
		{name: "protocol version out of range", note: "Hello.Protocol 65536 does not fit uint16",
			raw: generic([]any{1, 65536, 2, repA[:], "x", 0}), code: syncproto.CodeBadFrame},
		{name: "uuid of 15 bytes", raw: generic([]any{1, 1, 2, repA[:15], "x", 0}), code: syncproto.CodeBadFrame},
		{name: "uuid as text", note: "a uuid element is bin, never str", raw: generic([]any{1, 1, 2, repA.String(), "x", 0}), code: syncproto.CodeBadFrame},
		{name: "result status 0", raw: mustHex("94040100" + "9100"), code: syncproto.CodeBadFrame},
		{name: "result status 5", raw: mustHex("94040100" + "9105"), code: syncproto.CodeBadFrame},
		{name: "eviction of 4 elements", note: "nested arrays have exactly their length",
			raw: generic([]any{6, 0, 0, false, []any{[]any{}, []any{}, []any{}}, []any{[]any{"households", hh[:], "32002-02", nil}}}), code: syncproto.CodeBadFrame},
		{name: "row group of 12 elements", note: "3 + 8k only",
			raw: generic([]any{3, 1, []any{[]any{"households", "32002-01", "notes"}, []any{repA[:]}, []any{[]any{0, hh[:], 1, 2, nil, t0, 0, 1, 1, 0, 0, nil}}}}), code: syncproto.CodeBadFrame},
		{name: "change without an origin", note: "origin index 0",
			raw: generic([]any{3, 1, []any{[]any{"households", "32002-01", "notes"}, []any{repA[:]}, []any{[]any{0, hh[:], 1, 2, nil, t0, 0, 0, 1, 0, 0}}}}), code: syncproto.CodeBadFrame},
		{name: "name index beyond the dictionary",
			raw: generic([]any{3, 1, []any{[]any{"households", "32002-01", "notes"}, []any{repA[:]}, []any{[]any{0, hh[:], 1, 3, nil, t0, 0, 1, 1, 0, 0}}}}), code: syncproto.CodeBadFrame},
		{name: "value of type bin", note: "bin, arrays, maps and extensions are not values (§6.1)",
			raw: generic([]any{3, 1, []any{[]any{"households", "32002-01", "notes"}, []any{repA[:]}, []any{[]any{0, hh[:], 1, 2, []byte{1}, t0, 0, 1, 1, 0, 0}}}}), code: syncproto.CodeBadFrame},
		{name: "integer value above 2^63-1",
			raw: generic([]any{3, 1, []any{[]any{"households", "32002-01", "notes"}, []any{repA[:]}, []any{[]any{0, hh[:], 1, 2, uint64(1 << 63), t0, 0, 1, 1, 0, 0}}}}), code: syncproto.CodeBadFrame},
		{name: "sequence 0", note: "the first change of an origin carries its absolute sequence, at least 1",
			raw: generic([]any{3, 1, []any{[]any{"households", "32002-01", "notes"}, []any{repA[:]}, []any{[]any{0, hh[:], 1, 2, nil, t0, 0, 1, 0, 0, 0}}}}), code: syncproto.CodeBadFrame},
		{name: "milliseconds beyond 2^48", raw: generic([]any{3, 1, []any{[]any{"households", "32002-01", "notes"}, []any{repA[:]}, []any{[]any{0, hh[:], 1, 2, nil, int64(1 << 48), 0, 1, 1, 0, 0}}}}), code: syncproto.CodeBadFrame},
		{name: "snapshot header 7 with 5 elements", note: "only §16.2's header 6 is tolerated", raw: mustHex("970900c00090"), code: syncproto.CodeBadFrame},
		{name: "more than 64 elements", raw: append(mustHex("dc0041"), make([]byte, 65)...), code: syncproto.CodeBadFrame},
		{name: "array length beyond the frame", raw: mustHex("ddffffffff03"), code: syncproto.CodeBadFrame},
	}
}

// Vectors returns the vector files: one per message type and invalid.json,
// each ending in a newline.
func Vectors() ([]File, error) {
	var out []File
	for _, mv := range messageVectors() {
		var list []any
		for _, v := range mv.vs {
			canonical := v.msg != nil
			frame := v.raw
			m := v.msg
			if canonical {
				var err error
				if frame, err = syncproto.Encode(nil, m); err != nil {
					return nil, fmt.Errorf("%s: %w", v.name, err)
				}
			}
			dm, err := syncproto.Decode(frame, syncproto.DefaultLimits)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", v.name, err)
			}
			if dm.Type() != mv.t {
				return nil, fmt.Errorf("%s decodes as %s, not %s", v.name, dm.Type(), mv.t)
			}
			meaning, err := Meaning(dm)
			if err != nil {
				return nil, err
			}
			e := obj{{"name", v.name}}
			if v.note != "" {
				e = append(e, kv{"note", v.note})
			}
			e = append(e, kv{"canonical", canonical})
			if em, ok := dm.(*syncproto.ErrorMsg); ok {
				e = append(e, kv{"retryable", em.Code.Retryable()})
			}
			e = append(e, kv{"hex", hex.EncodeToString(frame)}, kv{"message", meaning})
			list = append(list, e)
		}
		f, err := file(mv.t.String()+".json", obj{{"type", int(mv.t)}, {"type_name", mv.t.String()}, {"vectors", list}})
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	var list []any
	for _, v := range invalidVectors() {
		if _, err := syncproto.Decode(v.raw, syncproto.DefaultLimits); syncproto.CodeOf(err) != v.code || err == nil {
			return nil, fmt.Errorf("invalid vector %q: decoding gives %v, want %s", v.name, err, v.code)
		}
		e := obj{{"name", v.name}}
		if v.note != "" {
			e = append(e, kv{"note", v.note})
		}
		list = append(list, append(e, kv{"hex", hex.EncodeToString(v.raw)}, kv{"error", string(v.code)}))
	}
	f, err := file("invalid.json", obj{{"vectors", list}})
	if err != nil {
		return nil, err
	}
	return append(out, f), nil
}

func file(name string, v any) (File, error) {
	b, err := marshal(v)
	if err != nil {
		return File{}, err
	}
	var ind bytes.Buffer
	if err := json.Indent(&ind, b, "", "  "); err != nil {
		return File{}, err
	}
	return File{Path: path.Join(VectorsDir, name), Data: append(ind.Bytes(), '\n')}, nil
}
