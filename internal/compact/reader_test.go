package compact

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReaderReadsAndStopsAtTheEnd(t *testing.T) {
	b := binary.AppendUvarint(nil, 300)
	b = binary.AppendVarint(b, -7)
	b = append(b, 2, 'h', 'i', 9)
	r := &Reader{B: b}
	require.EqualValues(t, 300, r.Uvarint())
	require.EqualValues(t, -7, r.Varint())
	require.Equal(t, []byte("hi"), r.Bytes(r.Uvarint()))
	require.EqualValues(t, 9, r.Byte())
	require.NoError(t, r.Err)

	require.Zero(t, r.Byte())
	require.ErrorIs(t, r.Err, ErrTruncated)
	require.Zero(t, r.Uvarint(), "after a failure every read is zero")

	r = &Reader{B: []byte{0x80}} // a varint that never ends
	require.Zero(t, r.Uvarint())
	require.ErrorIs(t, r.Err, ErrTruncated)
	r = &Reader{B: []byte{5, 'a'}}
	require.Nil(t, r.Bytes(r.Uvarint()))
	require.ErrorIs(t, r.Err, ErrTruncated)
}
