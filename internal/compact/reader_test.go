package compact

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/syncproto"
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

func TestNamesAndValuesRoundTrip(t *testing.T) {
	values := []syncproto.Value{syncproto.Null(), syncproto.Bool(true), syncproto.Bool(false), syncproto.Int(-300),
		syncproto.Float(2.5), syncproto.String("Nguyễn Văn An")}
	var b []byte
	for _, v := range values {
		b = AppendName(b, "head_name")
		b = AppendName(b, "a_field_no_list_has")
		b = append(b, ValueFlags(v))
		b = AppendValue(b, v)
	}
	r := &Reader{B: b}
	for _, want := range values {
		n, err := r.Name()
		require.NoError(t, err)
		require.Equal(t, "head_name", n)
		n, err = r.Name()
		require.NoError(t, err)
		require.Equal(t, "a_field_no_list_has", n)
		got, err := r.Value(r.Byte())
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	require.NoError(t, r.Err)
	require.Empty(t, r.B)

	_, err := (&Reader{B: []byte{0x7f}}).Name()
	require.ErrorContains(t, err, "field code 127")
	_, err = (&Reader{}).Value(0x07)
	require.ErrorContains(t, err, "value kind 7")
}
