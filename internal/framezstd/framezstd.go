package framezstd

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Header is the upgrade request's header by which an agent offers to take
// zstd frames, and the server's answer that it may send them (Token).
const (
	Header = "Hamlet-Frame-Encoding"
	Token  = "zstd"
)

// magic starts every zstd frame (RFC 8878 §3.1.1); a msgpack message,
// an array, starts with 0x90-0x9f, 0xdc or 0xdd.
var magic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// Is reports whether b is a zstd frame.
func Is(b []byte) bool { return bytes.HasPrefix(b, magic) }

// Offered reports whether a header value (Header's, comma-separated
// tokens) names Token.
func Offered(values []string) bool {
	for _, v := range values {
		for _, tok := range strings.Split(v, ",") {
			if strings.TrimSpace(tok) == Token {
				return true
			}
		}
	}
	return false
}

// encoder is shared by every connection: EncodeAll is safe for concurrent
// use and holds at most GOMAXPROCS encoders' state, whatever the number of
// connections.
var encoder = sync.OnceValue(func() *zstd.Encoder {
	e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithWindowSize(1<<20))
	if err != nil {
		panic(err) // options are constants
	}
	return e
})

// Compress appends the zstd frame of src to dst.
func Compress(dst, src []byte) []byte { return encoder().EncodeAll(src, dst) }

// ErrTooLarge: a frame's content is over the Decoder's limit (a message
// over MaxFrame, docs/PROTOCOL.md §10), as its header says or as it was
// being decompressed.
var ErrTooLarge = errors.New("zstd frame over the size limit")

// Decoder decompresses frames of at most a given size.
type Decoder struct {
	d   *zstd.Decoder
	max int
}

// NewDecoder returns a Decoder that refuses a frame whose content is over
// max bytes (the MaxFrame of docs/PROTOCOL.md §10, which applies to the
// decompressed message), before allocating it.
func NewDecoder(max int) (*Decoder, error) {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxMemory(uint64(max)), zstd.WithDecoderMaxWindow(uint64(max)))
	if err != nil {
		return nil, fmt.Errorf("zstd decoder: %w", err)
	}
	return &Decoder{d: d, max: max}, nil
}

// Decode returns the message a zstd frame holds.
func (d *Decoder) Decode(src []byte) ([]byte, error) {
	var h zstd.Header
	if err := h.Decode(src); err != nil {
		return nil, fmt.Errorf("zstd frame header: %w", err)
	}
	if h.HasFCS && h.FrameContentSize > uint64(d.max) {
		return nil, fmt.Errorf("zstd frame of %d bytes, more than %d: %w", h.FrameContentSize, d.max, ErrTooLarge)
	}
	out, err := d.d.DecodeAll(src, nil)
	if errors.Is(err, zstd.ErrDecoderSizeExceeded) {
		return nil, fmt.Errorf("zstd frame of more than %d bytes: %w", d.max, ErrTooLarge)
	}
	if err != nil {
		return nil, fmt.Errorf("zstd frame: %w", err)
	}
	return out, nil
}

// Close frees the decoder.
func (d *Decoder) Close() { d.d.Close() }
