package server

import "testing"

// The server takes a pasted code as the agent sends it (helper 157): an
// older agent, or another client, benefits too.
func TestNormalizeCodePasted(t *testing.T) {
	for _, in := range []string{"ABCD-EF23\u200b", "AB\u200bCD-EF23", "ABCD\u00a0EF23", "ABCD–EF23", "ABCD-EF23.", `"ABCD-EF23"`, "“abcd-ef23”"} {
		if got, ok := normalizeCode(in); !ok || got != "ABCDEF23" {
			t.Errorf("normalizeCode(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"ĐƯ3Á-K7MN", "ABCD.EF23", "O0I1-ABCD", "ABCD-EF2"} {
		if _, ok := normalizeCode(in); ok {
			t.Errorf("normalizeCode(%q) ok", in)
		}
	}
}
