package importfile

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/unicode"
)

// TestReadCSV: the CSV flavours spreadsheets save, with each row's line as
// a text editor numbers it (a quoted cell may span lines).
func TestReadCSV(t *testing.T) {
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String("Họ tên\tSĐT\nAn\t0912345678\n")
	require.NoError(t, err)
	tests := []struct {
		name  string
		in    string
		rows  [][]string
		lines []int
	}{
		{"comma", "Họ tên,SĐT\nAn,0912\n", [][]string{{"Họ tên", "SĐT"}, {"An", "0912"}}, []int{1, 2}},
		{"semicolon, BOM, CRLF", "\ufeffHọ tên;Địa chỉ\r\nAn;\"Số 1, tổ 2\"\r\n", [][]string{{"Họ tên", "Địa chỉ"}, {"An", "Số 1, tổ 2"}}, []int{1, 2}},
		{"tab, UTF-16", utf16, [][]string{{"Họ tên", "SĐT"}, {"An", "0912345678"}}, []int{1, 2}},
		{"multi-line cell", "a,b\n\"x\ny\",z\nc,d\n", [][]string{{"a", "b"}, {"x\ny", "z"}, {"c", "d"}}, []int{1, 2, 4}},
		{"quote inside an unquoted cell", "a;b\nSố 1 \"A\";x\n", [][]string{{"a", "b"}, {"Số 1 \"A\"", "x"}}, []int{1, 2}},
		{"title with commas above a semicolon table", "DS HỘ, ẤP A, XÃ B, TỈNH C;;\n\nSTT;Họ tên;Địa chỉ\n1;An;Số 1, tổ 2\n",
			[][]string{{"DS HỘ, ẤP A, XÃ B, TỈNH C", "", ""}, {"STT", "Họ tên", "Địa chỉ"}, {"1", "An", "Số 1, tổ 2"}}, []int{1, 3, 4}},
		{"one column", "Họ tên\nAn\n", [][]string{{"Họ tên"}, {"An"}}, []int{1, 2}},
		{"blank line kept out", "a,b\n\nc,d\n", [][]string{{"a", "b"}, {"c", "d"}}, []int{1, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ReadCSV(strings.NewReader(tt.in))
			require.NoError(t, err)
			require.Equal(t, tt.rows, s.Rows)
			require.Equal(t, tt.lines, s.Lines)
		})
	}
	_, err = ReadCSV(bytes.NewReader([]byte("a;b\n1;\"x\n2;y\n3;z\n")))
	var fe *Error
	require.ErrorAs(t, err, &fe, "an unclosed quote swallows the lines after it")
	require.Contains(t, fe.Message("vi"), "Dòng 2")
	_, err = ReadCSV(bytes.NewReader([]byte("H\xf4 t\xean,SDT\n")))
	require.ErrorAs(t, err, &fe)
	require.Contains(t, fe.Message("vi"), "CSV UTF-8")
}

// FuzzReadCSV: any bytes give rows or an *Error, never a panic; lines
// rise, and every cell is valid UTF-8.
func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("Họ tên;SĐT\nAn;0912\n"))
	f.Add([]byte("\xff\xfeH\x00\n\x00"))
	f.Add([]byte("\"a\nb\",c\n\"\"\"\n"))
	f.Add([]byte("a;\"b\n\"c\"d;e\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadCSV(bytes.NewReader(data))
		requireSound(t, s, err)
	})
}

// requireSound: what a reader gives any bytes: rows or an *Error, never a
// panic; lines rise, and every cell is valid UTF-8.
func requireSound(t *testing.T, s *Sheet, err error) {
	t.Helper()
	if err != nil {
		var fe *Error
		require.ErrorAs(t, err, &fe)
		return
	}
	require.Len(t, s.Lines, len(s.Rows))
	for i := range s.Rows {
		if i > 0 {
			require.Greater(t, s.Lines[i], s.Lines[i-1])
		}
		for _, c := range s.Rows[i] {
			require.True(t, utf8.ValidString(c))
		}
	}
}
