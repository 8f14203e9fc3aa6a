package officefile

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

func workbook(t *testing.T, password string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	require.NoError(t, f.SetCellValue("Sheet1", "A1", "code"))
	p := filepath.Join(t.TempDir(), "w.xlsx")
	require.NoError(t, f.SaveAs(p, excelize.Options{Password: password}))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}

func TestKinds(t *testing.T) {
	// An .xls: a compound file whose directory holds "Workbook", far
	// past the first buffer.
	xls := append(append([]byte{}, compoundMagic...), make([]byte, 3<<20)...)
	xls = append(xls, utf16le("Workbook")...)
	// The encrypted package named past a buffer's edge.
	late := append(append([]byte{}, compoundMagic...), make([]byte, 1<<20-5)...)
	late = append(late, encryptedPackage...)
	for _, tc := range []struct {
		name string
		data []byte
		want Kind
	}{
		{"csv", []byte("code,name\n32002-03,Ấp 3\n"), Other},
		{"empty", nil, Other},
		{"xlsx", workbook(t, ""), Zip},
		{"xlsx with a password", workbook(t, "mat-khau"), Encrypted},
		{"xls", xls, Compound},
		{"name across a buffer's edge", late, Encrypted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Of(bytes.NewReader(tc.data)))
		})
	}
	// Peek leaves a text file's bytes to read.
	br := bufio.NewReader(bytes.NewReader([]byte("code,name\n")))
	require.Equal(t, Other, Peek(br))
	rest, err := br.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "code,name\n", rest)
}
