package syncproto

import "slices"

// Codes lists every error code this package defines, sorted: each has a
// hint (Hint), so the list is the hints' keys. Conformance vectors
// (docs/protocol-vectors) carry one Error message per code.
func Codes() []Code {
	out := make([]Code, 0, len(hints))
	for c := range hints {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}
