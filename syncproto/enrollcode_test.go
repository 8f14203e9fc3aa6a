package syncproto

import "testing"

// A code copied from a chat or a document is the code (helper 157).
func TestCleanEnrollCode(t *testing.T) {
	for in, want := range map[string]string{
		"abcd-ef23":           "ABCDEF23",
		"ABCD-EF23\u200b":     "ABCDEF23",
		"AB\u200bCD-EF23":     "ABCDEF23",
		"ABCD\u00a0EF23":      "ABCDEF23",
		"ABCD–EF23":           "ABCDEF23",
		"ABCD—EF23":           "ABCDEF23",
		"ABCD‐EF23":           "ABCDEF23",
		"ABCD-EF23.":          "ABCDEF23",
		`"ABCD-EF23"`:         "ABCDEF23",
		"“ABCD-EF23”.":        "ABCDEF23",
		"\ufeff ABCD EF23 \t": "ABCDEF23",
		"ABCD.EF23":           "ABCD.EF23", // not a code: kept as it is
		"ĐƯ3Á-K7MN":           "ĐƯ3ÁK7MN",
	} {
		if got := CleanEnrollCode(in); got != want {
			t.Errorf("CleanEnrollCode(%q) = %q, want %q", in, got, want)
		}
	}
}
