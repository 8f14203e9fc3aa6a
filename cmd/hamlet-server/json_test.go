package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestJSONPrintsLogPositionsAsStrings: the log head, device cursors and
// lags are 64-bit; --json prints them as decimal strings (as the agent
// does), since JavaScript's numbers hold integers exactly only to 2^53.
func TestJSONPrintsLogPositionsAsStrings(t *testing.T) {
	f := newDevicesFixture(t)
	for _, tc := range []struct {
		args []string
		keys []string
	}{
		{[]string{"status", "--json"}, []string{"head", "cursor", "lag"}},
		{[]string{"device", "list", "--json"}, []string{"cursor"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := cli(t, f.dir, tc.args...)
			require.Equal(t, 0, code, errOut)
			var doc any
			require.NoError(t, json.Unmarshal([]byte(out), &doc))
			seen := map[string]int{}
			var walk func(key string, v any)
			walk = func(key string, v any) {
				switch x := v.(type) {
				case map[string]any:
					for k, e := range x {
						walk(k, e)
					}
				case []any:
					for _, e := range x {
						walk(key, e)
					}
				default:
					for _, k := range tc.keys {
						if k == key {
							s, ok := v.(string)
							require.True(t, ok, "%q is %T %v, not a string", key, v, v)
							_, err := strconv.ParseUint(s, 10, 64)
							require.NoError(t, err)
							seen[key]++
						}
					}
				}
			}
			walk("", doc)
			for _, k := range tc.keys {
				require.NotZero(t, seen[k], "no %q in %s", k, out)
			}
		})
	}
}
