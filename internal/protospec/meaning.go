package protospec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// obj is a JSON object that keeps its keys in the spec's order.
type obj []kv

type kv struct {
	k string
	v any
}

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshal(e.k)
		if err != nil {
			return nil, err
		}
		v, err := marshal(e.v)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal is json.Marshal without HTML escaping: the files are read by
// people and by other languages' JSON parsers, not put in a page.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// u64 and i64 write a 64-bit integer as a decimal string: JavaScript's
// numbers hold integers exactly only up to 2^53, and an HLC is above it.
func u64(n uint64) string { return strconv.FormatUint(n, 10) }
func i64(n int64) string  { return strconv.FormatInt(n, 10) }

// Meaning is a message as the vectors' JSON states it: the spec's element
// names (docs/PROTOCOL.md §5, §16) in order, "type" first; change lists as
// the changes they carry (§6.1), not their dictionaries.
func Meaning(m syncproto.Message) (any, error) {
	o := obj{{"type", int(m.Type())}}
	add := func(k string, v any) { o = append(o, kv{k, v}) }
	switch m := m.(type) {
	case *syncproto.Hello:
		add("Protocol", m.Protocol)
		add("Schema", m.Schema)
		add("Replica", m.Replica.String())
		add("Client", m.Client)
		add("SentAt", i64(m.SentAt))
	case *syncproto.Welcome:
		add("Protocol", m.Protocol)
		add("Schema", m.Schema)
		add("MinSchema", m.MinSchema)
		add("Server", m.Server.String())
		add("ServerTime", i64(m.ServerTime))
		add("EchoSentAt", i64(m.EchoSentAt))
		add("MaxSkewMs", i64(m.MaxSkewMs))
		add("Scope", strs(m.Scope))
		add("PushedSeq", u64(m.PushedSeq))
		add("Cursor", u64(m.Cursor))
		add("MaxFrame", m.MaxFrame)
		add("MaxChanges", m.MaxChanges)
		add("Reclone", m.Reclone)
	case *syncproto.Push:
		add("Batch", u64(m.Batch))
		add("Changes", changes(m.Changes))
	case *syncproto.Ack:
		add("Batch", u64(m.Batch))
		add("ServerTime", i64(m.ServerTime))
		rs := make([]any, len(m.Results))
		for i, r := range m.Results {
			rs[i] = obj{{"Status", int(r.Status)}, {"HLC", hlc(r.HLC)}, {"Code", string(r.Code)}, {"Reason", r.Reason}}
		}
		add("Results", rs)
		if slices.ContainsFunc(m.Results, func(r syncproto.Result) bool { return !r.Why.IsZero() }) {
			ws := make([]any, len(m.Results))
			for i, r := range m.Results {
				if !r.Why.IsZero() {
					ws[i] = obj{{"Key", r.Why.Key}, {"Params", r.Why.Params}}
				}
			}
			add("Reasons", ws)
		}
	case *syncproto.Pull:
		add("Cursor", u64(m.Cursor))
		add("Limit", m.Limit)
		add("Durable", u64(m.Durable))
		add("Scopes", strs(m.Scopes))
	case *syncproto.Changes:
		add("From", u64(m.From))
		add("To", u64(m.To))
		add("More", m.More)
		add("Changes", changes(m.Changes))
		ev := make([]any, len(m.Evict))
		for i, e := range m.Evict {
			ev[i] = obj{{"Table", e.Table}, {"Row", e.Row.String()}, {"NewScope", e.NewScope}}
		}
		add("Evict", ev)
		add("Horizon", u64(m.Horizon))
		add("Lost", lostWrites(m.Lost))
	case *syncproto.ErrorMsg:
		add("Code", string(m.Code))
		add("Msg", m.Msg)
		add("Fatal", m.Fatal)
	case *syncproto.Notify:
		add("Cursor", u64(m.Cursor))
	case *syncproto.SnapshotRequest:
		add("Head", u64(m.Head))
		add("After", pos(m.After))
		add("Limit", m.Limit)
		add("Scopes", strs(m.Scopes))
	case *syncproto.SnapshotChunk:
		add("Head", u64(m.Head))
		add("Total", u64(m.Total))
		add("From", pos(m.From))
		add("To", pos(m.To))
		add("More", m.More)
		add("Rows", changes(m.Rows))
		add("Lost", lostWrites(m.Lost))
	default:
		return nil, fmt.Errorf("no meaning for %T", m)
	}
	return o, nil
}

func strs(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

func pos(p syncproto.SnapshotPos) any {
	if p.IsZero() {
		return nil
	}
	return obj{{"Table", p.Table}, {"Row", p.Row.String()}}
}

// hlc gives the value and, to check a decoder step by step, the two parts
// the change list carries separately (§6.2).
func hlc(h syncproto.HLC) obj {
	return obj{{"value", u64(uint64(h))}, {"ms", h.Millis()}, {"logical", h.Logical()}}
}

func dot(d syncproto.Dot) any {
	if d.IsZero() {
		return nil
	}
	return obj{{"Replica", d.Replica.String()}, {"Seq", u64(d.Seq)}}
}

func value(v syncproto.Value) obj {
	switch v.Kind() {
	case syncproto.KindBool:
		return obj{{"kind", "bool"}, {"value", v.AsBool()}}
	case syncproto.KindInt:
		return obj{{"kind", "int"}, {"value", i64(v.AsInt())}}
	case syncproto.KindFloat:
		f := v.AsFloat()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			// JSON has no such number; the vectors use none.
			return obj{{"kind", "float"}, {"value", strconv.FormatFloat(f, 'g', -1, 64)}}
		}
		return obj{{"kind", "float"}, {"value", f}}
	case syncproto.KindString:
		return obj{{"kind", "string"}, {"value", v.AsString()}}
	}
	return obj{{"kind", "null"}}
}

func changes(cs []syncproto.Change) []any {
	out := make([]any, len(cs))
	for i := range cs {
		c := &cs[i]
		out[i] = obj{{"Table", c.Table}, {"Row", c.Row.String()}, {"Field", c.Field}, {"Value", value(c.Value)},
			{"HLC", hlc(c.HLC)}, {"Dot", dot(c.Dot)}, {"Base", dot(c.Base)}, {"Scope", c.Scope}}
	}
	return out
}

// lostWrites is the meaning of a Lost list (SnapshotChunk, Changes).
func lostWrites(ls []syncproto.LostWrite) []any {
	out := make([]any, len(ls))
	for i, l := range ls {
		out[i] = obj{{"Row", l.Row.String()}, {"Field", l.Field}, {"Loser", dot(l.Loser)}, {"Winner", dot(l.Winner)}}
	}
	return out
}
