package framezstd_test

import (
	"bytes"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/framezstd"
)

func TestRoundTripAndLimit(t *testing.T) {
	msg := append([]byte{0x97}, bytes.Repeat([]byte("hộ gia đình ấp Tân Lợi "), 4000)...)
	z := framezstd.Compress(nil, msg)
	require.True(t, framezstd.Is(z))
	require.False(t, framezstd.Is(msg), "a msgpack message is never taken for a zstd frame")
	require.Less(t, len(z), len(msg)/10)

	d, err := framezstd.NewDecoder(len(msg))
	require.NoError(t, err)
	defer d.Close()
	got, err := d.Decode(z)
	require.NoError(t, err)
	require.Equal(t, msg, got)

	small, err := framezstd.NewDecoder(len(msg) - 1)
	require.NoError(t, err)
	defer small.Close()
	_, err = small.Decode(z)
	require.ErrorIs(t, err, framezstd.ErrTooLarge, "a frame over MaxFrame once decompressed is refused")

	_, err = d.Decode(append(z[:len(z)/2:len(z)/2], 0, 1, 2))
	require.Error(t, err, "a cut frame")
}

func TestOffered(t *testing.T) {
	for _, tc := range []struct {
		values []string
		want   bool
	}{
		{nil, false},
		{[]string{"zstd"}, true},
		{[]string{"br, zstd"}, true},
		{[]string{"gzip", " zstd "}, true},
		{[]string{"zstd2"}, false},
	} {
		require.Equal(t, tc.want, framezstd.Offered(tc.values), "%q", tc.values)
	}
}

// TestLimitWithoutContentSize: a frame whose header does not say its size
// (a streaming encoder's) is refused as too large all the same, once its
// content passes the limit.
func TestLimitWithoutContentSize(t *testing.T) {
	var buf bytes.Buffer
	w, err := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1<<20))
	require.NoError(t, err)
	_, err = w.Write(make([]byte, 8<<20))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	var h zstd.Header
	require.NoError(t, h.Decode(buf.Bytes()))
	require.False(t, h.HasFCS, "the frame does not say its size")

	d, err := framezstd.NewDecoder(1 << 20)
	require.NoError(t, err)
	defer d.Close()
	_, err = d.Decode(buf.Bytes())
	require.ErrorIs(t, err, framezstd.ErrTooLarge)
}

// TestOneFrameOnly: a message is one frame (docs/PROTOCOL.md §2.2). Frames
// one after another, or a skippable frame, are refused before any is
// decompressed: DecodeAll grows its output frame by frame, copying it, and
// 4 MiB of tiny frames cost it minutes.
func TestOneFrameOnly(t *testing.T) {
	z := framezstd.Compress(nil, bytes.Repeat([]byte("ấp Tân Lợi "), 300))
	skippable := []byte{0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3}
	d, err := framezstd.NewDecoder(1 << 20)
	require.NoError(t, err)
	defer d.Close()
	for _, tc := range []struct {
		name string
		src  []byte
	}{
		{"two frames", append(append([]byte{}, z...), z...)},
		{"a frame, then a skippable one", append(append([]byte{}, z...), skippable...)},
		{"a skippable frame, then a frame", append(append([]byte{}, skippable...), z...)},
		{"a byte after the frame", append(append([]byte{}, z...), 0)},
	} {
		_, err := d.Decode(tc.src)
		require.Error(t, err, tc.name)
		require.NotErrorIs(t, err, framezstd.ErrTooLarge, tc.name)
	}
	out, err := d.Decode(z)
	require.NoError(t, err)
	require.Len(t, out, 300*len("ấp Tân Lợi "))
}
