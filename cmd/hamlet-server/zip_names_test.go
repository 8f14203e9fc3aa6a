package main

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// A CSV zipped to send it is named in the message that says to extract
// it, as the operator will find it: not beside what a Mac's Finder adds to
// the zip (__MACOSX/._ap.csv, an AppleDouble file the operator might take
// for the list), and in valid UTF-8 when Windows zipped the name in its
// code page (raw, it garbled the message).
func TestOperatorZipNamesTheFileToTakeOut(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := cli(t, dir, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	require.Equal(t, 0, code, errOut)
	csvText := "code,name\n32002-03,Ấp 3\n"
	mac := writeZip(t, "ap.zip", [2]string{"ap.csv", csvText}, [2]string{"__MACOSX/", ""},
		[2]string{"__MACOSX/._ap.csv", "\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X"}, [2]string{".DS_Store", "Bud1"})
	windows := writeZip(t, "ap-win.zip", [2]string{"Danh s\xe1ch \xe2p.csv", csvText})
	for _, tc := range []struct {
		file string
		want string
	}{
		{mac, "(trong đó có: ap.csv)"},
		{windows, "(trong đó có: Danh s?ch ?p.csv)"},
	} {
		for _, args := range [][]string{
			{"units", "import", tc.file},
			{"unit", "add-hamlets", "--file", tc.file},
		} {
			code, _, errOut := cli(t, dir, args...)
			require.NotEqual(t, 0, code, "%v", args)
			require.True(t, utf8.ValidString(errOut), "%v: the message is not UTF-8: %q", args, errOut)
			require.Contains(t, errOut, tc.want, "%v", args)
		}
	}
}
