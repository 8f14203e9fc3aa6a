package syncproto

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// decoder reads one frame with limits checked before every allocation.
type decoder struct {
	r   *bytes.Reader
	d   *msgpack.Decoder
	lim Limits
	// text is str's scratch space: a string is read into it and copied
	// once, into the string (a clone's frames hold millions of them).
	text []byte
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
	if cap(d.text) < n {
		d.text = make([]byte, n)
	}
	b := d.text[:n]
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
