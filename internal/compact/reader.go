package compact

import (
	"encoding/binary"
	"errors"
)

// ErrTruncated is what a Reader reports when a blob ends early.
var ErrTruncated = errors.New("truncated")

// Reader consumes B; the first failure is kept in Err and every later read
// returns zero, so a decoder checks Err once per record.
type Reader struct {
	B   []byte
	Err error
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	if r.Err != nil {
		return 0
	}
	x, n := binary.Uvarint(r.B)
	if n <= 0 {
		r.Err = ErrTruncated
		return 0
	}
	r.B = r.B[n:]
	return x
}

// Varint reads a zigzag varint.
func (r *Reader) Varint() int64 {
	if r.Err != nil {
		return 0
	}
	x, n := binary.Varint(r.B)
	if n <= 0 {
		r.Err = ErrTruncated
		return 0
	}
	r.B = r.B[n:]
	return x
}

// Bytes reads the next n bytes (not copied).
func (r *Reader) Bytes(n uint64) []byte {
	if r.Err != nil {
		return nil
	}
	if n > uint64(len(r.B)) {
		r.Err = ErrTruncated
		return nil
	}
	out := r.B[:n]
	r.B = r.B[n:]
	return out
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if b := r.Bytes(1); len(b) == 1 {
		return b[0]
	}
	return 0
}
