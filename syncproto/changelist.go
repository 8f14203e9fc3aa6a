package syncproto

import (
	"bytes"
	"errors"
	"math"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// changes writes a change list compactly: a name dictionary (tables, fields,
// scopes), a replica dictionary, then groups of consecutive changes to the
// same row, each field as eight small integers-or-values with the HLC and
// sequence delta-encoded. The body is written first into a scratch buffer
// because the dictionaries precede it.
func (e *encoder) changes(cs []Change) error {
	if e.names == nil {
		e.names = make(map[string]int)
		e.replicas = make(map[ReplicaID]int)
	}
	clear(e.names)
	clear(e.replicas)
	e.nameList = e.nameList[:0]
	e.replList = e.replList[:0]
	e.lastSeq = e.lastSeq[:0]

	body := bodyPool.Get().(*bytes.Buffer)
	defer bodyPool.Put(body)
	body.Reset()
	be := msgpack.NewEncoder(body)

	var groups int
	var prevMs int64
	for i := 0; i < len(cs); {
		j := i + 1
		for j < len(cs) && cs[j].Row == cs[i].Row && cs[j].Table == cs[i].Table && cs[j].Scope == cs[i].Scope {
			j++
		}
		groups++
		c0 := &cs[i]
		if err := errors.Join(be.EncodeArrayLen(3+8*(j-i)), be.EncodeUint(uint64(e.name(c0.Table))),
			be.EncodeBytes(c0.Row[:]), be.EncodeUint(uint64(e.name(c0.Scope)))); err != nil {
			return err
		}
		for k := i; k < j; k++ {
			c := &cs[k]
			ms := c.HLC.Millis()
			oi := e.replica(c.Dot.Replica)
			seqDelta := int64(c.Dot.Seq - e.lastSeq[oi-1])
			e.lastSeq[oi-1] = c.Dot.Seq
			var bi int
			var baseSeq uint64
			if !c.Base.IsZero() {
				bi = e.replica(c.Base.Replica)
				baseSeq = c.Base.Seq
				if bi == oi && c.Base.Seq < c.Dot.Seq {
					baseSeq = c.Dot.Seq - c.Base.Seq // usually 1 or a few: one byte
				}
			}
			if err := errors.Join(be.EncodeUint(uint64(e.name(c.Field))), encodeValue(be, c.Value),
				be.EncodeInt(ms-prevMs), be.EncodeUint(uint64(c.HLC.Logical())),
				be.EncodeUint(uint64(oi)), be.EncodeInt(seqDelta),
				be.EncodeUint(uint64(bi)), be.EncodeUint(baseSeq)); err != nil {
				return err
			}
			prevMs = ms
		}
		i = j
	}
	enc := e.enc
	if err := errors.Join(enc.EncodeArrayLen(3), e.strings(e.nameList), enc.EncodeArrayLen(len(e.replList))); err != nil {
		return err
	}
	for _, r := range e.replList {
		if err := enc.EncodeBytes(r[:]); err != nil {
			return err
		}
	}
	if err := enc.EncodeArrayLen(groups); err != nil {
		return err
	}
	_, err := e.buf.Write(body.Bytes())
	return err
}

var bodyPool = sync.Pool{New: func() any { return &bytes.Buffer{} }}

func encodeValue(enc *msgpack.Encoder, v Value) error {
	switch v.kind {
	case KindBool:
		return enc.EncodeBool(v.AsBool())
	case KindInt:
		return enc.EncodeInt(v.AsInt())
	case KindFloat:
		return enc.EncodeFloat64(v.AsFloat())
	case KindString:
		return enc.EncodeString(v.str)
	default:
		return enc.EncodeNil()
	}
}

func (d *decoder) changes() ([]Change, error) {
	if err := d.header(3, MsgPush); err != nil {
		return nil, err
	}
	nn, err := d.arrayLen(d.lim.MaxDict, "name dictionary")
	if err != nil {
		return nil, err
	}
	names := make([]string, nn)
	for i := range names {
		if names[i], err = d.str("dictionary name"); err != nil {
			return nil, err
		}
	}
	nr, err := d.arrayLen(d.lim.MaxDict, "replica dictionary")
	if err != nil {
		return nil, err
	}
	replicas := make([]ReplicaID, nr)
	for i := range replicas {
		if replicas[i], err = d.uuid("replica"); err != nil {
			return nil, err
		}
	}
	lastSeq := make([]uint64, nr)
	ng, err := d.arrayLen(d.lim.MaxChanges, "row groups")
	if err != nil {
		return nil, err
	}
	var out []Change // sized by the first row group
	var prevMs int64
	nameAt := func(what string) (string, error) {
		i, err := d.uint(uint64(len(names)), what)
		if err != nil {
			return "", err
		}
		if int(i) >= len(names) {
			return "", Errorf(CodeBadFrame, "%s refers to name %d of %d", what, i, len(names))
		}
		return names[i], nil
	}
	replicaAt := func(what string) (int, error) {
		i, err := d.uint(uint64(len(replicas)), what)
		if err != nil {
			return 0, err
		}
		return int(i), nil
	}
	for g := 0; g < ng; g++ {
		gl, err := d.arrayLen(3+8*d.lim.MaxChanges, "row group")
		if err != nil {
			return nil, err
		}
		if gl < 11 || (gl-3)%8 != 0 {
			return nil, Errorf(CodeBadFrame, "row group %d has %d elements, want 3+8k with k>=1", g, gl)
		}
		k := (gl - 3) / 8
		if len(out)+k > d.lim.MaxChanges {
			return nil, Errorf(CodeTooLarge, "batch has more than %d changes", d.lim.MaxChanges)
		}
		if g == 0 {
			// Rows of one batch carry much the same fields: size the
			// slice by the first row rather than grow it from one change
			// per row (which copied and dropped it three times over).
			out = newChanges(min(k*ng+k, d.lim.MaxChanges))
		}
		table, err := nameAt("table")
		if err != nil {
			return nil, err
		}
		row, err := d.uuid("row id")
		if err != nil {
			return nil, err
		}
		scope, err := nameAt("scope")
		if err != nil {
			return nil, err
		}
		for f := 0; f < k; f++ {
			c := Change{Table: table, Row: row, Scope: scope}
			if c.Field, err = nameAt("field"); err != nil {
				return nil, err
			}
			if c.Value, err = d.value(); err != nil {
				return nil, err
			}
			dms, err := d.d.DecodeInt64()
			if err != nil {
				return nil, err
			}
			logical, err := d.uint(logicalMask, "logical clock")
			if err != nil {
				return nil, err
			}
			ms := prevMs + dms
			if ms < 0 || ms >= 1<<48 || (dms > 0 && ms < prevMs) || (dms < 0 && ms > prevMs) {
				return nil, Errorf(CodeBadFrame, "timestamp out of range")
			}
			prevMs = ms
			c.HLC = MakeHLC(ms, uint16(logical))
			oi, err := replicaAt("origin")
			if err != nil {
				return nil, err
			}
			if oi == 0 {
				return nil, Errorf(CodeBadFrame, "change without an origin replica")
			}
			sd, err := d.d.DecodeInt64()
			if err != nil {
				return nil, err
			}
			seq := lastSeq[oi-1] + uint64(sd)
			if (sd > 0 && seq < lastSeq[oi-1]) || (sd < 0 && seq > lastSeq[oi-1]) || seq == 0 {
				return nil, Errorf(CodeBadFrame, "origin sequence out of range")
			}
			lastSeq[oi-1] = seq
			c.Dot = Dot{Replica: replicas[oi-1], Seq: seq}
			bi, err := replicaAt("base origin")
			if err != nil {
				return nil, err
			}
			bs, err := d.d.DecodeUint64()
			if err != nil {
				return nil, err
			}
			if bi != 0 {
				if bi == oi && bs < seq {
					bs = seq - bs
				}
				if bs == 0 {
					return nil, Errorf(CodeBadFrame, "base without a sequence")
				}
				c.Base = Dot{Replica: replicas[bi-1], Seq: bs}
			}
			out = append(out, c)
		}
	}
	if out == nil {
		out = []Change{} // no row group: empty, as always
	}
	return out, nil
}

func (d *decoder) value() (Value, error) {
	c, err := d.d.PeekCode()
	if err != nil {
		return Value{}, err
	}
	switch {
	case c == msgpcode.Nil:
		return Null(), d.d.DecodeNil()
	case c == msgpcode.True || c == msgpcode.False:
		b, err := d.d.DecodeBool()
		return Bool(b), err
	case c == msgpcode.Float || c == msgpcode.Double:
		f, err := d.d.DecodeFloat64()
		return Float(f), err
	case msgpcode.IsString(c):
		s, err := d.str("value")
		return String(s), err
	case msgpcode.IsFixedNum(c) || c == msgpcode.Int8 || c == msgpcode.Int16 || c == msgpcode.Int32 || c == msgpcode.Int64 ||
		c == msgpcode.Uint8 || c == msgpcode.Uint16 || c == msgpcode.Uint32:
		i, err := d.d.DecodeInt64()
		return Int(i), err
	case c == msgpcode.Uint64:
		u, err := d.d.DecodeUint64()
		if err == nil && u > math.MaxInt64 {
			return Value{}, Errorf(CodeBadFrame, "integer value out of range")
		}
		return Int(int64(u)), err
	}
	return Value{}, Errorf(CodeBadFrame, "value of unsupported msgpack type 0x%02x", c)
}

// changesPool holds the Changes slices given back by RecycleChanges.
var changesPool sync.Pool // of *[]Change

// newChanges returns an empty slice of capacity n or more: one given back
// by RecycleChanges if it is large enough.
func newChanges(n int) []Change {
	if p, _ := changesPool.Get().(*[]Change); p != nil && cap(*p) >= n {
		return (*p)[:0]
	}
	return make([]Change, 0, n)
}

// RecycleChanges gives back the changes of a decoded message (Push.Changes,
// Changes.Changes, SnapshotChunk.Rows) whose receiver is done with them,
// for the next message decoded to reuse: an agent's clone decodes some
// 2 GB of them, which the collector had to clear and collect (issue 20).
// Nothing may hold cs, a slice of it or a pointer into it afterwards; the
// values copied out of it (strings among them) stay valid.
func RecycleChanges(cs []Change) {
	if cap(cs) == 0 {
		return
	}
	cs = cs[:0]
	changesPool.Put(&cs)
}
