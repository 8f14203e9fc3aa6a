package syncproto

import (
	"errors"
	"slices"

	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// Why is a refusal's reason as data (docs/PROTOCOL.md §5.4, Ack element
// 4): a key naming the rule broken, and its parameters (ids, codes,
// numbers, times: never a value a person wrote), so each side renders it
// in its own user's language. Result.Reason still carries a rendered text
// for clients that do not read Why.
type Why struct {
	Key    string
	Params map[string]string
}

// IsZero reports whether w says nothing (no key).
func (w Why) IsZero() bool { return w.Key == "" }

// MaxWhyParams bounds the parameters of one Why.
const MaxWhyParams = 16

// hasWhy reports whether any result carries a Why: only then does an Ack
// have element 4, so an Ack without one is byte for byte what it was.
func hasWhy(rs []Result) bool {
	return slices.ContainsFunc(rs, func(r Result) bool { return !r.Why.IsZero() })
}

// whys encodes Ack element 4: one entry per result, nil or [Key, Params],
// the params' keys in ascending order so the bytes are deterministic.
func (e *encoder) whys(rs []Result) error {
	enc := e.enc
	if err := enc.EncodeArrayLen(len(rs)); err != nil {
		return err
	}
	for _, r := range rs {
		if r.Why.IsZero() {
			if err := enc.EncodeNil(); err != nil {
				return err
			}
			continue
		}
		keys := make([]string, 0, len(r.Why.Params))
		for k := range r.Why.Params {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		err := errors.Join(enc.EncodeArrayLen(2), enc.EncodeString(r.Why.Key), enc.EncodeMapLen(len(keys)))
		for _, k := range keys {
			err = errors.Join(err, enc.EncodeString(k), enc.EncodeString(r.Why.Params[k]))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// whys decodes Ack element 4 into rs: nil, or an array with one entry per
// result.
func (d *decoder) whys(rs []Result) error {
	c, err := d.d.PeekCode()
	if err != nil {
		return err
	}
	if c == msgpcode.Nil {
		return d.d.DecodeNil()
	}
	n, err := d.arrayLen(d.lim.MaxResults, "reasons")
	if err != nil {
		return err
	}
	if n != len(rs) {
		return Errorf(CodeBadFrame, "ack has %d reasons for %d results", n, len(rs))
	}
	for i := range rs {
		c, err := d.d.PeekCode()
		if err != nil {
			return err
		}
		if c == msgpcode.Nil {
			if err := d.d.DecodeNil(); err != nil {
				return err
			}
			continue
		}
		k, err := d.arrayLen(64, "reason")
		if err != nil {
			return err
		}
		if k < 2 {
			return Errorf(CodeBadFrame, "reason %d has %d elements, want at least 2", i, k)
		}
		w := &rs[i].Why
		if w.Key, err = d.str("reason key"); err != nil {
			return err
		}
		if w.Key == "" {
			return Errorf(CodeBadFrame, "reason %d has no key", i)
		}
		m, err := d.d.DecodeMapLen()
		if err != nil {
			return err
		}
		if m > MaxWhyParams {
			return Errorf(CodeTooLarge, "reason %d has %d parameters, the limit is %d", i, m, MaxWhyParams)
		}
		if m > 0 {
			w.Params = make(map[string]string, m)
		}
		for j := 0; j < m; j++ {
			name, err := d.str("reason parameter name")
			if err != nil {
				return err
			}
			if w.Params[name], err = d.str("reason parameter"); err != nil {
				return err
			}
		}
		if err := d.skipRest(k, 2); err != nil {
			return err
		}
	}
	return nil
}
