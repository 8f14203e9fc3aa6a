package main

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// bigKeys are the --json keys whose integers are 64-bit and may exceed
// 2^53: printed as decimal strings (README, "--json").
var bigKeys = map[string]bool{"hlc": true, "seq": true, "cursor": true, "clock_offset_ns": true}

// checkJSONIntegers walks a --json document: every value under a big key is
// a string holding an integer; no JSON number anywhere is an integer
// beyond 2^53, which JavaScript would round. It returns the big values by
// key.
func checkJSONIntegers(t *testing.T, what string, out []byte) map[string][]string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	var doc any
	require.NoError(t, dec.Decode(&doc), "%s: %s", what, out)
	found := map[string][]string{}
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
		case json.Number:
			require.False(t, bigKeys[key], "%s: %q is the number %s, not a string", what, key, x)
			if n, err := x.Int64(); err == nil {
				require.LessOrEqual(t, abs(n), int64(1)<<53, "%s: %q = %s is beyond 2^53", what, key, x)
			}
		case string:
			if bigKeys[key] {
				_, err := strconv.ParseInt(x, 10, 64)
				if err != nil {
					_, err = strconv.ParseUint(x, 10, 64)
				}
				require.NoError(t, err, "%s: %q = %q is not an integer", what, key, x)
				found[key] = append(found[key], x)
			}
		}
	}
	walk("", doc)
	return found
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// TestJSONPrints64BitIntegersAsStrings runs the agent's binary: HLCs,
// sequences, cursors and the clock offset are printed as strings that hold
// the exact value, and nothing a JavaScript reader would round is printed
// as a number.
func TestJSONPrints64BitIntegersAsStrings(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the agent")
	}
	ts := servertest.Start(t)
	l := newLaptop(t, t.TempDir())
	agentJSON := func(args ...string) []byte {
		t.Helper()
		return []byte(l.must(append(args, "--json")...).stdout)
	}

	agentJSON("enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	var rec struct{ ID string }
	require.NoError(t, json.Unmarshal(agentJSON("household", "add", "--hamlet", ts.HamletsA[0], "--head", "Phạm Văn Năm"), &rec))
	sum := checkJSONIntegers(t, "sync", agentJSON("sync"))
	require.Len(t, sum["clock_offset_ns"], 1)

	// A conflict pulled at a cursor beyond 2^53, which a float64 cannot hold
	// (2^53 + 1).
	addConflict(t, l.dir, time.Now(), 1<<53, "0911111111")
	st := checkJSONIntegers(t, "status", agentJSON("status"))
	require.Equal(t, []string{"9007199254740993"}, st["cursor"])

	cs := checkJSONIntegers(t, "conflicts", agentJSON("conflicts"))
	require.Len(t, cs["hlc"], 2, "loser and winner")
	require.Len(t, cs["seq"], 2)

	var list []struct {
		ID     string
		Fields map[string]any
	}
	require.NoError(t, json.Unmarshal(agentJSON("household", "list"), &list))
	require.Len(t, list, 2)
	for _, h := range list {
		show := agentJSON("household", "show", h.ID)
		got := checkJSONIntegers(t, "household show", show)
		require.NotEmpty(t, got["hlc"])
		// Each version's HLC is exact: its milliseconds are its time.
		var d struct {
			History []struct {
				Versions []struct {
					At  time.Time
					HLC string
				}
			}
		}
		require.NoError(t, json.Unmarshal(show, &d))
		for _, fh := range d.History {
			for _, v := range fh.Versions {
				h, err := strconv.ParseUint(v.HLC, 10, 64)
				require.NoError(t, err)
				require.Greater(t, h, uint64(1)<<53)
				require.Equal(t, v.At.UnixMilli(), int64(h>>16))
			}
		}
	}
}
