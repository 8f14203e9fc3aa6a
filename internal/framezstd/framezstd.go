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
	// A message is one frame (docs/PROTOCOL.md §2.2). DecodeAll takes
	// frames one after another, and grows its output by each frame's
	// size, copying what it holds: 4 MiB of frames of a few bytes each
	// cost it minutes and hundreds of GiB, a message's limit kept all
	// along.
	if h.Skippable {
		return nil, errors.New("zstd: a skippable frame, not a message")
	}
	if n, ok := frameLen(src, h.HeaderSize, h.HasCheckSum); ok && n < len(src) {
		return nil, fmt.Errorf("zstd frame of %d bytes followed by %d more: a message is one frame", n, len(src)-n)
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

// frameLen is the length of the frame at the start of src, whose header
// is hdr bytes (RFC 8878 §3.1.1): the blocks, each a 3-byte header saying
// its type and size, then the checksum if the header says there is one.
// ok is false when src ends before the last block, or a block's type is
// the reserved one: DecodeAll says what is wrong.
func frameLen(src []byte, hdr int, checksum bool) (n int, ok bool) {
	n = hdr
	for {
		if len(src)-n < 3 {
			return 0, false
		}
		bh := int(src[n]) | int(src[n+1])<<8 | int(src[n+2])<<16
		n += 3
		switch size := bh >> 3; (bh >> 1) & 3 {
		case 0, 2: // raw, compressed: size bytes
			n += size
		case 1: // RLE: one byte, size times
			n++
		default:
			return 0, false
		}
		if n > len(src) {
			return 0, false
		}
		if bh&1 != 0 { // the last block
			break
		}
	}
	if checksum {
		n += 4
	}
	return n, n <= len(src)
}

// Close frees the decoder.
func (d *Decoder) Close() { d.d.Close() }
