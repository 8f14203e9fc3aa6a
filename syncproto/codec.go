package syncproto

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// Limits are the hard bounds a decoder enforces before it allocates anything.
type Limits struct {
	MaxFrame   int // bytes in one frame
	MaxChanges int // changes in one Push or Changes
	MaxString  int // bytes in one string value
	MaxDict    int // entries in a batch's name or replica dictionary
	MaxScope   int // hamlet codes in a Welcome
	MaxResults int // results in one Ack
	MaxEvict   int // evictions in one Changes
}

// DefaultLimits are the limits of docs/PROTOCOL.md.
var DefaultLimits = Limits{
	MaxFrame:   4 << 20,
	MaxChanges: 10000,
	MaxString:  64 << 10,
	MaxDict:    4096,
	MaxScope:   4096,
	MaxResults: 10000,
	MaxEvict:   10000,
}

var encPool = sync.Pool{New: func() any {
	e := &encoder{buf: &bytes.Buffer{}}
	e.enc = msgpack.NewEncoder(e.buf)
	return e
}}

type encoder struct {
	buf *bytes.Buffer
	enc *msgpack.Encoder
	// per-batch dictionaries
	names    map[string]int
	replicas map[ReplicaID]int
	nameList []string
	replList []ReplicaID
	lastSeq  []uint64
}

// Encode appends the frame for m to dst.
func Encode(dst []byte, m Message) ([]byte, error) {
	e := encPool.Get().(*encoder)
	defer encPool.Put(e)
	e.buf.Reset()
	if err := e.message(m); err != nil {
		return dst, err
	}
	return append(dst, e.buf.Bytes()...), nil
}

func (e *encoder) message(m Message) error {
	enc := e.enc
	var err error
	switch m := m.(type) {
	case *Hello:
		err = errors.Join(enc.EncodeArrayLen(6), enc.EncodeUint(uint64(MsgHello)),
			enc.EncodeUint(uint64(m.Protocol)), enc.EncodeUint(uint64(m.Schema)),
			enc.EncodeBytes(m.Replica[:]), enc.EncodeString(m.Client), enc.EncodeInt(m.SentAt))
	case *Welcome:
		err = errors.Join(enc.EncodeArrayLen(15), enc.EncodeUint(uint64(MsgWelcome)),
			enc.EncodeUint(uint64(m.Protocol)), enc.EncodeUint(uint64(m.Schema)), enc.EncodeUint(uint64(m.MinSchema)),
			enc.EncodeBytes(m.Server[:]), enc.EncodeInt(m.ServerTime), enc.EncodeInt(m.EchoSentAt), enc.EncodeInt(m.MaxSkewMs),
			e.strings(m.Scope), enc.EncodeUint(m.PushedSeq), enc.EncodeUint(m.Cursor),
			enc.EncodeUint(uint64(m.MaxFrame)), enc.EncodeUint(uint64(m.MaxChanges)), enc.EncodeNil(), enc.EncodeBool(m.Reclone))
	case *Push:
		err = errors.Join(enc.EncodeArrayLen(3), enc.EncodeUint(uint64(MsgPush)), enc.EncodeUint(m.Batch), e.changes(m.Changes))
	case *Ack:
		err = errors.Join(enc.EncodeArrayLen(4), enc.EncodeUint(uint64(MsgAck)), enc.EncodeUint(m.Batch),
			enc.EncodeInt(m.ServerTime), e.results(m.Results))
	case *Pull:
		if len(m.Scopes) > 0 { // a back-fill: one trailing element more
			err = errors.Join(enc.EncodeArrayLen(5), enc.EncodeUint(uint64(MsgPull)), enc.EncodeUint(m.Cursor), enc.EncodeUint(uint64(m.Limit)),
				enc.EncodeUint(m.Durable), e.strings(m.Scopes))
			break
		}
		err = errors.Join(enc.EncodeArrayLen(4), enc.EncodeUint(uint64(MsgPull)), enc.EncodeUint(m.Cursor), enc.EncodeUint(uint64(m.Limit)),
			enc.EncodeUint(m.Durable))
	case *Changes:
		err = errors.Join(enc.EncodeArrayLen(7), enc.EncodeUint(uint64(MsgChanges)), enc.EncodeUint(m.From), enc.EncodeUint(m.To),
			enc.EncodeBool(m.More), e.changes(m.Changes), e.evictions(m.Evict), enc.EncodeUint(m.Horizon))
	case *ErrorMsg:
		err = errors.Join(enc.EncodeArrayLen(4), enc.EncodeUint(uint64(MsgError)), enc.EncodeString(string(m.Code)),
			enc.EncodeString(m.Msg), enc.EncodeBool(m.Fatal))
	case *Notify:
		err = errors.Join(enc.EncodeArrayLen(2), enc.EncodeUint(uint64(MsgNotify)), enc.EncodeUint(m.Cursor))
	default:
		if ok, serr := e.snapshot(m); ok {
			return serr
		}
		return Errorf(CodeUnknownType, "cannot encode %T", m)
	}
	return err
}

func (e *encoder) strings(ss []string) error {
	if err := e.enc.EncodeArrayLen(len(ss)); err != nil {
		return err
	}
	for _, s := range ss {
		if err := e.enc.EncodeString(s); err != nil {
			return err
		}
	}
	return nil
}

func (e *encoder) results(rs []Result) error {
	enc := e.enc
	if err := enc.EncodeArrayLen(len(rs)); err != nil {
		return err
	}
	for _, r := range rs {
		// The common case, applied and not restamped, is one byte.
		if r.HLC == 0 && r.Code == "" && r.Reason == "" {
			if err := enc.EncodeUint(uint64(r.Status)); err != nil {
				return err
			}
			continue
		}
		if err := errors.Join(enc.EncodeArrayLen(4), enc.EncodeUint(uint64(r.Status)), enc.EncodeUint(uint64(r.HLC)),
			enc.EncodeString(string(r.Code)), enc.EncodeString(r.Reason)); err != nil {
			return err
		}
	}
	return nil
}

func (e *encoder) evictions(ev []Eviction) error {
	enc := e.enc
	if err := enc.EncodeArrayLen(len(ev)); err != nil {
		return err
	}
	for i := range ev {
		if err := errors.Join(enc.EncodeArrayLen(3), enc.EncodeString(ev[i].Table), enc.EncodeBytes(ev[i].Row[:]),
			enc.EncodeString(ev[i].NewScope)); err != nil {
			return err
		}
	}
	return nil
}

func (e *encoder) name(s string) int {
	if i, ok := e.names[s]; ok {
		return i
	}
	i := len(e.nameList)
	e.names[s] = i
	e.nameList = append(e.nameList, s)
	return i
}

// replica returns a 1-based index; 0 on the wire means "no replica".
func (e *encoder) replica(r ReplicaID) int {
	if i, ok := e.replicas[r]; ok {
		return i
	}
	e.replList = append(e.replList, r)
	i := len(e.replList)
	e.replicas[r] = i
	e.lastSeq = append(e.lastSeq, 0)
	return i
}

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

// decoder reads one frame with limits checked before every allocation.
type decoder struct {
	r   *bytes.Reader
	d   *msgpack.Decoder
	lim Limits
}

var decPool = sync.Pool{New: func() any {
	r := bytes.NewReader(nil)
	return &decoder{r: r, d: msgpack.NewDecoder(r)}
}}

// Decode parses one frame. Any malformed or oversized input returns an *Error
// (CodeBadFrame, CodeTooLarge or CodeUnknownType); it never panics.
func Decode(frame []byte, lim Limits) (m Message, err error) {
	if lim.MaxFrame == 0 {
		lim = DefaultLimits
	}
	if len(frame) > lim.MaxFrame {
		return nil, Errorf(CodeTooLarge, "frame of %d bytes exceeds the limit of %d", len(frame), lim.MaxFrame)
	}
	dec := decPool.Get().(*decoder)
	defer decPool.Put(dec)
	dec.r.Reset(frame)
	dec.d.Reset(dec.r)
	dec.lim = lim
	defer func() {
		// The decoder checks every length it reads, so this is a last line of
		// defence: a bug here must cost one frame, never the process.
		if r := recover(); r != nil {
			m, err = nil, Errorf(CodeBadFrame, "undecodable frame: %v", r)
		}
	}()
	m, err = dec.message()
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			return nil, pe
		}
		return nil, &Error{Code: CodeBadFrame, Msg: "malformed frame", Err: err}
	}
	if dec.r.Len() != 0 {
		return nil, Errorf(CodeBadFrame, "%d trailing bytes after a %s message", dec.r.Len(), m.Type())
	}
	return m, nil
}

func (d *decoder) arrayLen(max int, what string) (int, error) {
	n, err := d.d.DecodeArrayLen()
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, nil
	}
	if n > max {
		return 0, Errorf(CodeTooLarge, "%s has %d entries, the limit is %d", what, n, max)
	}
	if n > d.r.Len() {
		return 0, Errorf(CodeBadFrame, "%s claims %d entries but only %d bytes remain", what, n, d.r.Len())
	}
	return n, nil
}

func (d *decoder) header(want int, t MsgType) error {
	n, err := d.d.DecodeArrayLen()
	if err != nil {
		return err
	}
	if n < want {
		return Errorf(CodeBadFrame, "%s message has %d elements, want at least %d", t, n, want)
	}
	return nil
}

func (d *decoder) str(what string) (string, error) {
	c, err := d.d.PeekCode()
	if err != nil {
		return "", err
	}
	if c == msgpcode.Nil {
		_ = d.d.DecodeNil()
		return "", nil
	}
	if !msgpcode.IsString(c) {
		return "", Errorf(CodeBadFrame, "%s is not a string", what)
	}
	n, err := d.d.DecodeBytesLen()
	if err != nil {
		return "", err
	}
	if n > d.lim.MaxString {
		return "", Errorf(CodeTooLarge, "%s is %d bytes, the limit is %d", what, n, d.lim.MaxString)
	}
	if n > d.r.Len() {
		return "", Errorf(CodeBadFrame, "%s claims %d bytes but only %d remain", what, n, d.r.Len())
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil {
		return "", err
	}
	return string(b), nil
}

func (d *decoder) uuid(what string) (ReplicaID, error) {
	var id ReplicaID
	c, err := d.d.PeekCode()
	if err != nil {
		return id, err
	}
	if !msgpcode.IsBin(c) {
		return id, Errorf(CodeBadFrame, "%s is not binary", what)
	}
	n, err := d.d.DecodeBytesLen()
	if err != nil {
		return id, err
	}
	if n != 16 {
		return id, Errorf(CodeBadFrame, "%s is %d bytes, want 16", what, n)
	}
	_, err = io.ReadFull(d.r, id[:])
	return id, err
}

func (d *decoder) uint(max uint64, what string) (uint64, error) {
	v, err := d.d.DecodeUint64()
	if err != nil {
		return 0, err
	}
	if v > max {
		return 0, Errorf(CodeBadFrame, "%s is %d, out of range", what, v)
	}
	return v, nil
}

// skipRest skips elements a newer peer appended to a message: fields are only
// ever added at the end, so old decoders keep working.
func (d *decoder) skipRest(n, read int) error {
	for ; read < n; read++ {
		if err := d.d.Skip(); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) message() (Message, error) {
	n, err := d.d.DecodeArrayLen()
	if err != nil {
		return nil, err
	}
	if n < 1 || n > 64 {
		return nil, Errorf(CodeBadFrame, "a frame is an array of 1 to 64 elements, got %d", n)
	}
	t, err := d.uint(255, "message type")
	if err != nil {
		return nil, err
	}
	var m Message
	var read int
	switch MsgType(t) {
	case MsgHello:
		m, read, err = d.hello(n)
	case MsgWelcome:
		m, read, err = d.welcome(n)
	case MsgPush:
		m, read, err = d.push(n)
	case MsgAck:
		m, read, err = d.ack(n)
	case MsgPull:
		m, read, err = d.pull(n)
	case MsgChanges:
		m, read, err = d.changesMsg(n)
	case MsgError:
		m, read, err = d.errorMsg(n)
	case MsgNotify:
		m, read, err = d.notify(n)
	case MsgSnapshotRequest:
		m, read, err = d.snapshotRequest(n)
	case MsgSnapshotChunk:
		m, read, err = d.snapshotChunk(n)
	default:
		return nil, Errorf(CodeUnknownType, "unknown message type %d", t)
	}
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", MsgType(t), err)
	}
	return m, d.skipRest(n, read)
}

func need(n, want int, t MsgType) error {
	if n < want {
		return Errorf(CodeBadFrame, "%s message has %d elements, want at least %d", t, n, want)
	}
	return nil
}

func (d *decoder) hello(n int) (Message, int, error) {
	if err := need(n, 6, MsgHello); err != nil {
		return nil, 0, err
	}
	m := &Hello{}
	p, err := d.uint(math.MaxUint16, "protocol")
	if err != nil {
		return nil, 0, err
	}
	s, err := d.uint(math.MaxUint16, "schema")
	if err != nil {
		return nil, 0, err
	}
	m.Protocol, m.Schema = uint16(p), uint16(s)
	if m.Replica, err = d.uuid("replica"); err != nil {
		return nil, 0, err
	}
	if m.Client, err = d.str("client"); err != nil {
		return nil, 0, err
	}
	if m.SentAt, err = d.d.DecodeInt64(); err != nil {
		return nil, 0, err
	}
	return m, 6, nil
}

func (d *decoder) welcome(n int) (Message, int, error) {
	if err := need(n, 14, MsgWelcome); err != nil {
		return nil, 0, err
	}
	m := &Welcome{}
	var vs [3]uint64
	for i := range vs {
		v, err := d.uint(math.MaxUint16, "version")
		if err != nil {
			return nil, 0, err
		}
		vs[i] = v
	}
	m.Protocol, m.Schema, m.MinSchema = uint16(vs[0]), uint16(vs[1]), uint16(vs[2])
	var err error
	if m.Server, err = d.uuid("server"); err != nil {
		return nil, 0, err
	}
	if m.ServerTime, err = d.d.DecodeInt64(); err != nil {
		return nil, 0, err
	}
	if m.EchoSentAt, err = d.d.DecodeInt64(); err != nil {
		return nil, 0, err
	}
	if m.MaxSkewMs, err = d.d.DecodeInt64(); err != nil {
		return nil, 0, err
	}
	k, err := d.arrayLen(d.lim.MaxScope, "scope")
	if err != nil {
		return nil, 0, err
	}
	m.Scope = make([]string, k)
	for i := range m.Scope {
		if m.Scope[i], err = d.str("scope entry"); err != nil {
			return nil, 0, err
		}
	}
	if m.PushedSeq, err = d.d.DecodeUint64(); err != nil {
		return nil, 0, err
	}
	if m.Cursor, err = d.d.DecodeUint64(); err != nil {
		return nil, 0, err
	}
	mf, err := d.uint(math.MaxUint32, "max frame")
	if err != nil {
		return nil, 0, err
	}
	mc, err := d.uint(math.MaxUint32, "max changes")
	if err != nil {
		return nil, 0, err
	}
	m.MaxFrame, m.MaxChanges = uint32(mf), uint32(mc)
	if n < 15 {
		return m, 13, nil // element 14 is reserved; skipRest consumes it
	}
	if err := d.d.Skip(); err != nil { // element 14, reserved
		return nil, 0, err
	}
	if m.Reclone, err = d.d.DecodeBool(); err != nil {
		return nil, 0, err
	}
	return m, 15, nil
}

func (d *decoder) push(n int) (Message, int, error) {
	if err := need(n, 3, MsgPush); err != nil {
		return nil, 0, err
	}
	m := &Push{}
	var err error
	if m.Batch, err = d.d.DecodeUint64(); err != nil {
		return nil, 0, err
	}
	if m.Changes, err = d.changes(); err != nil {
		return nil, 0, err
	}
	return m, 3, nil
}

func (d *decoder) ack(n int) (Message, int, error) {
	if err := need(n, 4, MsgAck); err != nil {
		return nil, 0, err
	}
	m := &Ack{}
	var err error
	if m.Batch, err = d.d.DecodeUint64(); err != nil {
		return nil, 0, err
	}
	if m.ServerTime, err = d.d.DecodeInt64(); err != nil {
		return nil, 0, err
	}
	k, err := d.arrayLen(d.lim.MaxResults, "results")
	if err != nil {
		return nil, 0, err
	}
	m.Results = make([]Result, k)
	for i := range m.Results {
		r := &m.Results[i]
		c, err := d.d.PeekCode()
		if err != nil {
			return nil, 0, err
		}
		if !msgpcode.IsFixedArray(c) && c != msgpcode.Array16 && c != msgpcode.Array32 {
			s, err := d.uint(uint64(ResultRefused), "result status")
			if err != nil {
				return nil, 0, err
			}
			r.Status = ResultStatus(s)
		} else {
			if err := d.header(4, MsgAck); err != nil {
				return nil, 0, err
			}
			s, err := d.uint(uint64(ResultRefused), "result status")
			if err != nil {
				return nil, 0, err
			}
			r.Status = ResultStatus(s)
			h, err := d.d.DecodeUint64()
			if err != nil {
				return nil, 0, err
			}
			r.HLC = HLC(h)
			code, err := d.str("result code")
			if err != nil {
				return nil, 0, err
			}
			r.Code = Code(code)
			if r.Reason, err = d.str("result reason"); err != nil {
				return nil, 0, err
			}
		}
		if r.Status == 0 {
			return nil, 0, Errorf(CodeBadFrame, "result %d has no status", i)
		}
	}
	return m, 4, nil
}

func (d *decoder) pull(n int) (Message, int, error) {
	if err := need(n, 3, MsgPull); err != nil {
		return nil, 0, err
	}
	m := &Pull{}
	var err error
	if m.Cursor, err = d.d.DecodeUint64(); err != nil {
		return nil, 0, err
	}
	l, err := d.uint(math.MaxUint32, "limit")
	if err != nil {
		return nil, 0, err
	}
	m.Limit = uint32(l)
	if n < 4 { // a version-1 client that predates Durable
		return m, 3, nil
	}
	if m.Durable, err = d.d.DecodeUint64(); err != nil {
		return nil, 0, err
	}
	if n < 5 { // no Scopes: the device's whole scope
		return m, 4, nil
	}
	k, err := d.arrayLen(d.lim.MaxScope, "pull scopes")
	if err != nil {
		return nil, 0, err
	}
	if k > 0 {
		m.Scopes = make([]string, k)
		for i := range m.Scopes {
			if m.Scopes[i], err = d.str("pull scope"); err != nil {
				return nil, 0, err
			}
		}
	}
	return m, 5, nil
}

func (d *decoder) changesMsg(n int) (Message, int, error) {
	if err := need(n, 6, MsgChanges); err != nil {
		return nil, 0, err
	}
	m := &Changes{}
	var err error
	if m.From, err = d.d.DecodeUint64(); err != nil {
		return nil, 0, err
	}
	if m.To, err = d.d.DecodeUint64(); err != nil {
		return nil, 0, err
	}
	if m.More, err = d.d.DecodeBool(); err != nil {
		return nil, 0, err
	}
	if m.Changes, err = d.changes(); err != nil {
		return nil, 0, err
	}
	k, err := d.arrayLen(d.lim.MaxEvict, "evictions")
	if err != nil {
		return nil, 0, err
	}
	if k > 0 {
		m.Evict = make([]Eviction, k)
	}
	for i := range m.Evict {
		if err := d.header(3, MsgChanges); err != nil {
			return nil, 0, err
		}
		ev := &m.Evict[i]
		if ev.Table, err = d.str("eviction table"); err != nil {
			return nil, 0, err
		}
		if ev.Row, err = d.uuid("eviction row"); err != nil {
			return nil, 0, err
		}
		if ev.NewScope, err = d.str("eviction scope"); err != nil {
			return nil, 0, err
		}
	}
	if n < 7 { // a server that predates Horizon
		return m, 6, nil
	}
	if m.Horizon, err = d.d.DecodeUint64(); err != nil {
		return nil, 0, err
	}
	return m, 7, nil
}

func (d *decoder) errorMsg(n int) (Message, int, error) {
	if err := need(n, 4, MsgError); err != nil {
		return nil, 0, err
	}
	m := &ErrorMsg{}
	code, err := d.str("error code")
	if err != nil {
		return nil, 0, err
	}
	m.Code = Code(code)
	if m.Msg, err = d.str("error message"); err != nil {
		return nil, 0, err
	}
	if m.Fatal, err = d.d.DecodeBool(); err != nil {
		return nil, 0, err
	}
	return m, 4, nil
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
	out := make([]Change, 0, ng)
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

func (d *decoder) notify(n int) (Message, int, error) {
	if err := need(n, 2, MsgNotify); err != nil {
		return nil, 0, err
	}
	c, err := d.d.DecodeUint64()
	if err != nil {
		return nil, 0, err
	}
	return &Notify{Cursor: c}, 2, nil
}
