package agent

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzIsUnixMS: isUnixMS, the loop that replaced a regular expression
// compiled at every start (issue 20), accepts exactly what the expression
// did.
func FuzzIsUnixMS(f *testing.F) {
	re := regexp.MustCompile(`^1[0-9]{12}$`)
	for _, s := range []string{"1700000000000", "2700000000000", "170000000000", "17000000000000", "1700000000x00",
		"1700000000000\n", " 1700000000000", "١700000000000", "", "1", "0700000000000", "1999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		require.Equal(t, re.MatchString(s), isUnixMS(s), "%q", s)
	})
}
