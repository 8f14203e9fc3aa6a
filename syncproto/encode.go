package syncproto

import (
	"bytes"
	"errors"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

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
		err = errors.Join(enc.EncodeArrayLen(16), enc.EncodeUint(uint64(MsgWelcome)),
			enc.EncodeUint(uint64(m.Protocol)), enc.EncodeUint(uint64(m.Schema)), enc.EncodeUint(uint64(m.MinSchema)),
			enc.EncodeBytes(m.Server[:]), enc.EncodeInt(m.ServerTime), enc.EncodeInt(m.EchoSentAt), enc.EncodeInt(m.MaxSkewMs),
			e.strings(m.Scope), enc.EncodeUint(m.PushedSeq), enc.EncodeUint(m.Cursor),
			enc.EncodeUint(uint64(m.MaxFrame)), enc.EncodeUint(uint64(m.MaxChanges)), enc.EncodeNil(), enc.EncodeBool(m.Reclone),
			enc.EncodeUint(m.LogEpoch))
	case *Push:
		err = errors.Join(enc.EncodeArrayLen(3), enc.EncodeUint(uint64(MsgPush)), enc.EncodeUint(m.Batch), e.changes(m.Changes))
	case *Ack:
		if hasWhy(m.Results) { // the reasons as data: one trailing element more (why.go)
			err = errors.Join(enc.EncodeArrayLen(5), enc.EncodeUint(uint64(MsgAck)), enc.EncodeUint(m.Batch),
				enc.EncodeInt(m.ServerTime), e.results(m.Results), e.whys(m.Results))
			break
		}
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
		n := 7
		if len(m.Lost) > 0 {
			n = 8 // a batch without losses is the previous release's form
		}
		err = errors.Join(enc.EncodeArrayLen(n), enc.EncodeUint(uint64(MsgChanges)), enc.EncodeUint(m.From), enc.EncodeUint(m.To),
			enc.EncodeBool(m.More), e.changes(m.Changes), e.evictions(m.Evict), enc.EncodeUint(m.Horizon), e.lost(m.Lost, n))
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
