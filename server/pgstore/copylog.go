package pgstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// logCopy is log entries encoded as they are appended, in PostgreSQL's
// binary COPY format, ready for one COPY sync_log ... FROM STDIN at
// commit. Encoding them here, column types known, costs a fraction of
// handing pgx one []any per row to encode generically (most of a push's
// CPU time in the store went there).
type logCopy struct {
	buf []byte
	n   int
}

var copyLogSQL = `COPY sync_log (` + strings.Join(logColumns, ", ") + `) FROM STDIN WITH (FORMAT binary)`

// copyHeader is the binary COPY signature, flags and header extension length.
var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

func (l *logCopy) int8(v int64) {
	l.buf = binary.BigEndian.AppendUint32(l.buf, 8)
	l.buf = binary.BigEndian.AppendUint64(l.buf, uint64(v))
}

func (l *logCopy) int2(v int16) {
	l.buf = binary.BigEndian.AppendUint32(l.buf, 2)
	l.buf = binary.BigEndian.AppendUint16(l.buf, uint16(v))
}

func (l *logCopy) bytes(b []byte) {
	l.buf = binary.BigEndian.AppendUint32(l.buf, uint32(len(b)))
	l.buf = append(l.buf, b...)
}

func (l *logCopy) text(s string) {
	l.buf = binary.BigEndian.AppendUint32(l.buf, uint32(len(s)))
	l.buf = append(l.buf, s...)
}

func (l *logCopy) null() { l.buf = binary.BigEndian.AppendUint32(l.buf, math.MaxUint32) } // length -1

// value writes a value's vkind and val columns as encodeValue has them.
func (l *logCopy) value(v syncproto.Value) {
	switch v.Kind() {
	case syncproto.KindBool:
		l.int2(int16(v.Kind()))
		b := byte(0)
		if v.AsBool() {
			b = 1
		}
		l.bytes([]byte{b})
	case syncproto.KindInt:
		l.int2(int16(v.Kind()))
		l.int8(v.AsInt())
	case syncproto.KindFloat:
		l.int2(int16(v.Kind()))
		l.int8(int64(math.Float64bits(v.AsFloat())))
	case syncproto.KindString:
		l.int2(int16(v.Kind()))
		l.text(v.AsString())
	default:
		l.int2(int16(syncproto.KindNull))
		l.null()
	}
}

// add encodes one log row, its columns in logColumns' order.
func (l *logCopy) add(seq int64, kind int16, c *syncproto.Change, origin, baseOrigin int64, newScope *string) {
	if l.n == 0 {
		l.buf = append(l.buf[:0], copyHeader...)
	}
	l.n++
	l.buf = binary.BigEndian.AppendUint16(l.buf, uint16(len(logColumns)))
	l.int8(seq)
	l.int2(kind)
	l.text(c.Scope)
	l.text(c.Table)
	l.bytes(c.Row[:])
	l.text(c.Field)
	l.value(c.Value)
	l.int8(int64(c.HLC))
	l.int8(origin)
	l.int8(int64(c.Dot.Seq))
	l.int8(baseOrigin)
	l.int8(int64(c.Base.Seq))
	if newScope != nil {
		l.text(*newScope)
	} else {
		l.null()
	}
}

// send COPYs the rows into sync_log on conn and empties l.
func (l *logCopy) send(ctx context.Context, conn *pgconn.PgConn) error {
	if l.n == 0 {
		return nil
	}
	l.buf = binary.BigEndian.AppendUint16(l.buf, math.MaxUint16) // trailer: -1
	tag, err := conn.CopyFrom(ctx, bytes.NewReader(l.buf), copyLogSQL)
	if err != nil {
		return err
	}
	if tag.RowsAffected() != int64(l.n) {
		return fmt.Errorf("COPY wrote %d log rows of %d", tag.RowsAffected(), l.n)
	}
	l.buf, l.n = l.buf[:0], 0
	return nil
}
