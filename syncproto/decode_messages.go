package syncproto

import (
	"math"

	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

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
	if n < 16 {
		return m, 15, nil // a server before log epochs: never restored, as far as it says
	}
	if m.LogEpoch, err = d.d.DecodeUint64(); err != nil {
		return nil, 0, err
	}
	return m, 16, nil
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
	if n >= 5 {
		if err := d.whys(m.Results); err != nil {
			return nil, 0, err
		}
		return m, 5, nil
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
	if n < 8 { // no losses, or a server that predates Lost
		return m, 7, nil
	}
	if m.Lost, err = d.lost(); err != nil {
		return nil, 0, err
	}
	return m, 8, nil
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
