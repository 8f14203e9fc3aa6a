package readall

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

func TestInto(t *testing.T) {
	text := strings.Repeat("ấp Tân Thành ", 1000)
	for _, tc := range []struct {
		name string
		buf  []byte
	}{
		{"empty buffer", nil},
		{"sized exactly", make([]byte, 0, len(text))},
		{"sized with room", make([]byte, 0, len(text)+1)},
		{"too small", make([]byte, 0, 7)},
		{"kept bytes", []byte("đầu:")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := string(tc.buf)
			got, err := Into(tc.buf, iotest.HalfReader(strings.NewReader(text)))
			require.NoError(t, err)
			require.Equal(t, prefix+text, string(got))
		})
	}
	broken := errors.New("cut")
	got, err := Into(nil, io.MultiReader(bytes.NewReader([]byte("abc")), iotest.ErrReader(broken)))
	require.ErrorIs(t, err, broken)
	require.Equal(t, "abc", string(got), "what was read before the error")
}
