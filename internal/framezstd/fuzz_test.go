package framezstd_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/framezstd"
)

// fuzzMax is the content size the fuzzed decoder takes: small, so that a
// frame the fuzzer grows past it is met often.
const fuzzMax = 64 << 10

// FuzzDecodeFrame feeds arbitrary bytes to the agent's zstd frame decoder
// (a frame from the server, docs/PROTOCOL.md §2.2): it must return the
// content or an error, never panic, never more than its limit; and any
// bytes compressed by the server's side decode to themselves.
func FuzzDecodeFrame(f *testing.F) {
	msg := append([]byte{0x93}, bytes.Repeat([]byte("hộ gia đình ấp Tân Lợi "), 100)...)
	z := framezstd.Compress(nil, msg)
	f.Add(z)
	f.Add(z[:len(z)/2])
	f.Add(framezstd.Compress(nil, nil))
	f.Add(framezstd.Compress(nil, make([]byte, fuzzMax+1)))
	f.Add(append(append([]byte{}, z...), z...))
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd})
	f.Add(msg)
	d, err := framezstd.NewDecoder(fuzzMax)
	require.NoError(f, err)
	f.Cleanup(d.Close)
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := d.Decode(b)
		if err == nil {
			require.LessOrEqual(t, len(out), fuzzMax)
		}
		if len(b) <= fuzzMax {
			out, err := d.Decode(framezstd.Compress(nil, b))
			require.NoError(t, err)
			require.Equal(t, len(b), len(out))
			require.True(t, bytes.Equal(b, out))
		}
	})
}
