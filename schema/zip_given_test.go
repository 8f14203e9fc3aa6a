package schema_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
)

// zeros reads n zero bytes.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	m := min(int64(len(p)), z.n)
	clear(p[:m])
	z.n -= m
	return int(m), nil
}

// A zip given for a CSV file that cannot be read through, too large or
// damaged, is told for what it may be and what to do with each kind; it
// is never told as a workbook it was not seen to be.
func TestRefuseWorkbookOfAZipNotReadThrough(t *testing.T) {
	for _, tc := range []struct {
		name   string
		r      io.Reader
		vi, en string
	}{
		{"over 64 MB", io.MultiReader(bytes.NewReader([]byte("PK\x03\x04")), &zeros{64 << 20}), "lớn hơn 64 MB", "larger than 64 MB"},
		{"cut short", bytes.NewReader([]byte("PK\x03\x04\x14\x00\x00\x00")), "bị hỏng", "damaged or cut short"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := schema.RefuseWorkbook(bufio.NewReader(tc.r))
			var pe *schema.ParseError
			require.True(t, errors.As(err, &pe), "%v", err)
			require.Contains(t, pe.MsgVI, tc.vi)
			require.Contains(t, pe.Msg, tc.en)
			require.Contains(t, pe.MsgVI, "giải nén")
			require.Contains(t, pe.Msg, "CSV UTF-8")
			require.NotContains(t, pe.Msg, "the file is an Excel workbook")
		})
	}
}
