package agent

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// rowState is one row's versions: the source of truth of the replica. The
// row table is a projection of cur.
type rowState struct {
	id    syncproto.RowID
	table string
	scope string
	cur   map[string]*syncproto.Version
	hist  []histEntry // versions that were replaced, or lost on arrival
	text  string      // id as text, once made (idText)
	// order is cur's fields in name order, when the state was built so (a
	// fresh row of a clone's chunk) and not changed since: fields returns
	// it while cur has as many fields. Only cloneTxn sets it, on a state it
	// saves as it is.
	order []string
}

// histEntry is a version that is not (or no longer) a field's value.
type histEntry struct {
	Field string
	Ver   syncproto.Version
	// Lost is true for a concurrent write that lost (it is in conflicts too);
	// false for a value later overwritten.
	Lost bool
}

func newRowState(table string, id syncproto.RowID, scope string) *rowState {
	return &rowState{id: id, table: table, scope: scope, cur: map[string]*syncproto.Version{}}
}

func (s *rowState) deleted() bool {
	v := s.cur[syncproto.TombstoneField]
	return v != nil && v.Value.AsBool()
}

func (s *rowState) str(field string) string {
	if v := s.cur[field]; v != nil && v.Value.Kind() == syncproto.KindString {
		return v.Value.AsString()
	}
	return ""
}

// held reports whether the row's history holds version d of field: a
// value this replica replaced, or a write it recorded as lost.
func (s *rowState) held(field string, d syncproto.Dot) bool {
	for i := range s.hist {
		if h := &s.hist[i]; h.Ver.Dot == d && h.Field == field {
			return true
		}
	}
	return false
}

// overwritten is the version d of field that a later value replaced (nil
// when the history does not hold it).
func (s *rowState) overwritten(field string, d syncproto.Dot) *syncproto.Version {
	if d.IsZero() {
		return nil
	}
	for i := len(s.hist) - 1; i >= 0; i-- {
		if h := &s.hist[i]; h.Field == field && h.Ver.Dot == d && !h.Lost {
			return &h.Ver
		}
	}
	return nil
}

// install makes ver the field's value, keeping the old one in the history.
func (s *rowState) install(field string, ver syncproto.Version) {
	if old := s.cur[field]; old != nil {
		s.hist = append(s.hist, histEntry{Field: field, Ver: *old})
	}
	v := ver
	s.cur[field] = &v
}

// forgetOwn drops from the field's history the versions of replica self
// with a sequence in seqs: refused changes a new write fixed, which the
// server never held. Kept, they read as versions the server took once
// their outbox entries were gone, and a re-clone dropped the row as one
// the snapshot would bring back, though the server had never held it
// (issue 17, wide and silent seed 1301407; clone.go syncedWithPending).
func (s *rowState) forgetOwn(field string, self syncproto.ReplicaID, seqs map[uint64]syncproto.Dot) {
	if len(seqs) == 0 {
		return
	}
	s.hist = slices.DeleteFunc(s.hist, func(h histEntry) bool {
		_, fixed := seqs[h.Ver.Dot.Seq]
		return h.Field == field && h.Ver.Dot.Replica == self && fixed
	})
}

func (s *rowState) fields() []string {
	if s.order != nil && len(s.order) == len(s.cur) {
		return s.order
	}
	fs := make([]string, 0, len(s.cur))
	for f := range s.cur {
		fs = append(fs, f)
	}
	sort.Strings(fs)
	return fs
}

var blobPool = sync.Pool{New: func() any {
	b := &bytes.Buffer{}
	return &blobEnc{buf: b, enc: msgpack.NewEncoder(b)}
}}

type blobEnc struct {
	buf  *bytes.Buffer
	enc  *msgpack.Encoder
	reps map[syncproto.ReplicaID]int
	list []syncproto.ReplicaID
	cur  []versions.FieldVersion // the current versions, in field order
}

const blobVersion = 1

// encodeMsgpackState makes encode write the msgpack format earlier builds
// wrote (blobVersion 1) instead of the current one (state_compact.go):
// tests set it to check that old replicas still decode.
var encodeMsgpackState = false

// encodeCompactState makes encode write the compact format of issue 9
// (every value in the blob) instead of the current one, as builds before
// issue 20 did: tests set it to make a replica of the previous code.
var encodeCompactState = false

// encode writes the row's versions with replica ids as indexes into a
// per-row dictionary (most rows have one or two writers). stored says
// what the row table will hold once the row is saved (rowState.stored):
// the current values it holds exactly are left out of the blob and read
// back from it (decodeState's cols).
func (s *rowState) encode(stored versions.Columns) ([]byte, error) {
	e := blobPool.Get().(*blobEnc)
	defer blobPool.Put(e)
	if e.reps == nil {
		e.reps = map[syncproto.ReplicaID]int{}
	}
	clear(e.reps)
	e.list = e.list[:0]
	idx := func(r syncproto.ReplicaID) int {
		if i, ok := e.reps[r]; ok {
			return i
		}
		e.list = append(e.list, r)
		e.reps[r] = len(e.list)
		return len(e.list)
	}
	fields := s.fields()
	for _, f := range fields {
		v := s.cur[f]
		idx(v.Dot.Replica)
		if !v.Base.IsZero() {
			idx(v.Base.Replica)
		}
	}
	for _, h := range s.hist {
		idx(h.Ver.Dot.Replica)
		if !h.Ver.Base.IsZero() {
			idx(h.Ver.Base.Replica)
		}
	}
	switch {
	case encodeCompactState:
		return s.encodeCompact(e, fields), nil
	case !encodeMsgpackState:
		return s.encodeColumns(e, fields, stored)
	}
	e.buf.Reset()
	enc := e.enc
	err := enc.EncodeArrayLen(4)
	err = firstErr(err, enc.EncodeUint(blobVersion), enc.EncodeArrayLen(len(e.list)))
	for _, r := range e.list {
		err = firstErr(err, enc.EncodeBytes(r[:]))
	}
	ver := func(field string, v *syncproto.Version, lost bool) {
		bi := 0
		if !v.Base.IsZero() {
			bi = e.reps[v.Base.Replica]
		}
		n := 8
		if lost {
			n = 9
		}
		err = firstErr(err, enc.EncodeArrayLen(n), enc.EncodeString(field), enc.EncodeUint(uint64(v.Value.Kind())),
			encodeAny(enc, v.Value), enc.EncodeUint(uint64(v.HLC)), enc.EncodeUint(uint64(e.reps[v.Dot.Replica])),
			enc.EncodeUint(v.Dot.Seq), enc.EncodeUint(uint64(bi)), enc.EncodeUint(v.Base.Seq))
		if lost {
			err = firstErr(err, enc.EncodeBool(true))
		}
	}
	err = firstErr(err, enc.EncodeArrayLen(len(fields)))
	for _, f := range fields {
		ver(f, s.cur[f], false)
	}
	err = firstErr(err, enc.EncodeArrayLen(len(s.hist)))
	for i := range s.hist {
		ver(s.hist[i].Field, &s.hist[i].Ver, s.hist[i].Lost)
	}
	if err != nil {
		return nil, err
	}
	return bytes.Clone(e.buf.Bytes()), nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func encodeAny(enc *msgpack.Encoder, v syncproto.Value) error {
	switch v.Kind() {
	case syncproto.KindBool:
		return enc.EncodeBool(v.AsBool())
	case syncproto.KindInt:
		return enc.EncodeInt(v.AsInt())
	case syncproto.KindFloat:
		return enc.EncodeFloat64(v.AsFloat())
	case syncproto.KindString:
		return enc.EncodeString(v.AsString())
	}
	return enc.EncodeNil()
}

// decodeState reads a row state; cols gives the row's values in its row
// table (nil: none), where the current format keeps its current values
// (decodeRows reads them).
func decodeState(table string, id syncproto.RowID, scope string, blob []byte, cols versions.Columns) (*rowState, error) {
	s, err := decodeStateBlob(table, id, scope, blob, cols)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errDamagedRecord, err)
	}
	return s, nil
}

func decodeStateBlob(table string, id syncproto.RowID, scope string, blob []byte, cols versions.Columns) (*rowState, error) {
	s := newRowState(table, id, scope)
	if len(blob) > 0 {
		switch blob[0] {
		case stateColumns:
			return decodeStateColumns(s, blob, cols)
		case stateCompact:
			return decodeStateCompact(s, blob)
		}
	}
	d := msgpack.NewDecoder(bytes.NewReader(blob))
	n, err := d.DecodeArrayLen()
	if err != nil || n != 4 {
		return nil, fmt.Errorf("row state %s: bad header (%d, %v)", id, n, err)
	}
	bv, err := d.DecodeUint64()
	if err != nil || bv != blobVersion {
		return nil, fmt.Errorf("row state %s: version %d (%v)", id, bv, err)
	}
	nr, err := d.DecodeArrayLen()
	if err != nil {
		return nil, err
	}
	reps := make([]syncproto.ReplicaID, nr)
	for i := range reps {
		b, err := d.DecodeBytes()
		if err != nil || len(b) != 16 {
			return nil, fmt.Errorf("row state %s: bad replica id", id)
		}
		copy(reps[i][:], b)
	}
	rep := func(i uint64) (syncproto.ReplicaID, error) {
		if i == 0 || i > uint64(len(reps)) {
			return syncproto.ReplicaID{}, fmt.Errorf("row state %s: replica index %d", id, i)
		}
		return reps[i-1], nil
	}
	readVer := func() (string, syncproto.Version, bool, error) {
		var v syncproto.Version
		n, err := d.DecodeArrayLen()
		if err != nil || (n != 8 && n != 9) {
			return "", v, false, fmt.Errorf("row state %s: bad version (%d, %v)", id, n, err)
		}
		field, err := d.DecodeString()
		if err != nil {
			return "", v, false, err
		}
		kind, err := d.DecodeUint64()
		if err != nil {
			return "", v, false, err
		}
		switch syncproto.Kind(kind) {
		case syncproto.KindNull:
			err = d.DecodeNil()
		case syncproto.KindBool:
			var b bool
			b, err = d.DecodeBool()
			v.Value = syncproto.Bool(b)
		case syncproto.KindInt:
			var i int64
			i, err = d.DecodeInt64()
			v.Value = syncproto.Int(i)
		case syncproto.KindFloat:
			var f float64
			f, err = d.DecodeFloat64()
			v.Value = syncproto.Float(f)
		case syncproto.KindString:
			var st string
			st, err = d.DecodeString()
			v.Value = syncproto.String(st)
		default:
			err = fmt.Errorf("row state %s: kind %d", id, kind)
		}
		if err != nil {
			return "", v, false, err
		}
		h, err := d.DecodeUint64()
		if err != nil {
			return "", v, false, err
		}
		v.HLC = syncproto.HLC(h)
		ri, err := d.DecodeUint64()
		if err != nil {
			return "", v, false, err
		}
		if v.Dot.Replica, err = rep(ri); err != nil {
			return "", v, false, err
		}
		if v.Dot.Seq, err = d.DecodeUint64(); err != nil {
			return "", v, false, err
		}
		bi, err := d.DecodeUint64()
		if err != nil {
			return "", v, false, err
		}
		bs, err := d.DecodeUint64()
		if err != nil {
			return "", v, false, err
		}
		if bi != 0 {
			if v.Base.Replica, err = rep(bi); err != nil {
				return "", v, false, err
			}
			v.Base.Seq = bs
		}
		lost := false
		if n == 9 {
			if lost, err = d.DecodeBool(); err != nil {
				return "", v, false, err
			}
		}
		return field, v, lost, nil
	}
	nc, err := d.DecodeArrayLen()
	if err != nil {
		return nil, err
	}
	for i := 0; i < nc; i++ {
		f, v, _, err := readVer()
		if err != nil {
			return nil, err
		}
		vv := v
		s.cur[f] = &vv
	}
	nh, err := d.DecodeArrayLen()
	if err != nil {
		return nil, err
	}
	for i := 0; i < nh; i++ {
		f, v, lost, err := readVer()
		if err != nil {
			return nil, err
		}
		s.hist = append(s.hist, histEntry{Field: f, Ver: v, Lost: lost})
	}
	return s, nil
}
